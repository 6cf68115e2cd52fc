import { decodeCursor, encodeCursor } from '../crypto/cursors.ts';
import { userStatus } from '../domain/user.ts';
import type { TenantContext } from './context.ts';

/**
 * What a page may be filtered to: support's questions ("who is locked out?", "who
 * has not enrolled?").
 */
export const USER_FILTERS = [
  'enabled',
  'pending',
  'locked',
  'disabled',
  'unenrolled',
  'due',
  'overdue',
  'exempt',
] as const;
export type UserFilter = (typeof USER_FILTERS)[number];

export interface UserListQuery {
  limit: number;
  status: UserFilter | undefined;
  cursor: string | undefined;
}

const USER_LIST = 'users';
/**
 * The filters whose users are all registered without an authenticator: their pages
 * read that group of the enrolment index, which holds no one else.
 */
const GROUP_OF: Partial<Record<UserFilter, 'unenrolled' | 'exempt'>> = {
  unenrolled: 'unenrolled',
  due: 'unenrolled',
  overdue: 'unenrolled',
  exempt: 'exempt',
};
/** A filtered page reads the index in chunks of this many users, for at most MAX_ROUNDS chunks. */
const FILTERED_CHUNK = 100;
const MAX_ROUNDS = 3;

/**
 * GET /v1/users: the users the service knows (enrolled, pending, registered) in
 * user-id order. Each page does bounded work, whatever the filter: at most MAX_ROUNDS
 * reads of an index (and the batch reads of the users it names). The enrolment
 * filters read an index of just the registered users without an authenticator. A
 * filtered page may hold fewer than `limit` users, even none, and still carry a
 * cursor; `nextCursor` is null exactly on the last page.
 */
export async function listUsers({ deps, tenant }: TenantContext, query: UserListQuery) {
  const { limit, status } = query;
  const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  let after =
    query.cursor === undefined
      ? undefined
      : decodeCursor(keys.cursors, tenant.tenantId, USER_LIST, query.cursor);
  const now = deps.now();
  type View = ReturnType<typeof userStatus>;
  const matches = (view: View) => {
    if (status === undefined) return view.enabled || view.pending || view.registered;
    // Locked: what Unlock helps. A disabled user is disabled, whatever its lock.
    if (status === 'locked') return view.lockedUntil !== null && !view.disabled;
    if (status === 'unenrolled') return view.registered && !view.enabled && view.enrolment.state !== 'exempt';
    if (status === 'due' || status === 'overdue' || status === 'exempt')
      return view.enrolment.state === status;
    return view[status];
  };
  // Each row carries what support acts on (the lock, the disable, a weak imported
  // secret): a page is one call, never one per user.
  const page = (views: View[], nextAfter: string | undefined) => ({
    users: views.map((view) => ({
      userId: view.userId,
      enabled: view.enabled,
      pending: view.pending,
      confirmedAt: view.confirmedAt,
      lastVerifiedAt: view.lastVerifiedAt,
      lockedUntil: view.lockedUntil,
      authenticators: view.authenticators.length,
      disabled: view.disabled,
      source: view.source,
      weakSecret: view.weakSecret,
      registered: view.registered,
      enrolment: view.enrolment,
    })),
    nextCursor:
      nextAfter === undefined ? null : encodeCursor(keys.cursors, tenant.tenantId, USER_LIST, nextAfter),
  });

  // Each user's status is worked out once: to filter it, then to show it.
  const found: View[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // One more than the page holds, so that the last page is known to be the last.
    const wanted = limit + 1 - found.length;
    const chunk = await deps.store.listUsers(
      tenant.tenantId,
      after,
      status === undefined ? wanted : Math.max(wanted, FILTERED_CHUNK),
      status === undefined ? undefined : GROUP_OF[status],
    );
    for (const user of chunk.users) {
      const view = userStatus(user, tenant.settings, now);
      if (!matches(view)) continue;
      if (found.length === limit) return page(found, found.at(-1)?.userId);
      found.push(view);
    }
    after = chunk.lastUserId;
    if (!chunk.more || after === undefined) return page(found, undefined);
  }
  // The work for this page is done: the next one starts after the last user examined.
  return page(found, after);
}

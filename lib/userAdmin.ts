import { decodeCursor, encodeCursor } from './cursors.ts';
import type { TenantContext } from './context.ts';
import { isPrintable } from './domain/identifiers.ts';
import { livePending, type UserRecord, userStatus } from './domain/user.ts';
import { invalidRequest, notEnrolled, serviceUnavailable } from './errors.ts';
import { optionalString, parseLimit } from './http/fields.ts';
import { issueRecoveryCodes } from './recoveryCodes.ts';

/** GET /v1/users/{userId}: an unknown user is not an error, and no secret is ever part of it. */
export const getStatus = ({ deps, tenant }: TenantContext, userId: string, user: UserRecord | undefined) => ({
  ...userStatus(user, tenant.settings, deps.now()),
  userId,
});

/** DELETE /v1/users/{userId}: idempotent; `removed` says whether anything was there. */
export async function removeUser(
  ctx: TenantContext,
  userId: string,
  body: Record<string, unknown> | undefined,
) {
  const reason = optionalString(body, 'reason');
  if (reason !== undefined && !isPrintable(reason, 256)) {
    throw invalidRequest('reason must be at most 256 printable characters');
  }
  const old = await ctx.deps.store.removeUser(ctx.tenant.tenantId, userId);
  const removed = old?.active !== undefined || old?.pending !== undefined;
  await ctx.audit({
    action: 'remove',
    userId,
    outcome: removed ? 'success' : 'not_found',
    ...(reason === undefined ? {} : { reason }),
  });
  return { userId, removed };
}

/** POST /v1/users/{userId}/unlock: lifts the timed lock; not the disable, nor the count toward it. */
export async function unlockUser(ctx: TenantContext, userId: string, user: UserRecord | undefined) {
  if (user && (await ctx.deps.store.unlock(user))) {
    await ctx.audit({ action: 'unlock', userId, outcome: 'success' });
    return getStatus(ctx, userId, { ...user, failedAttempts: 0 });
  }
  await ctx.audit({ action: 'unlock', userId, outcome: 'not_found' });
  return getStatus(ctx, userId, undefined);
}

/** POST /v1/users/{userId}/recovery-codes: ten new codes; the old ones stop working. */
export async function replaceRecoveryCodes(ctx: TenantContext, userId: string, read: UserRecord | undefined) {
  const { deps, tenant } = ctx;
  const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  let user = read;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (!user?.active) throw notEnrolled();
    const { codes, hashes } = issueRecoveryCodes(keys, userId);
    const result = await deps.store.replaceRecoveryCodes(user, user.active.id, hashes);
    if (result.applied) {
      await ctx.audit({ action: 'recovery_codes', userId, outcome: 'success' });
      return { recoveryCodes: codes };
    }
    user = result.current ?? (await deps.store.getUser(tenant.tenantId, userId));
  }
  throw serviceUnavailable('the database, under concurrent changes,');
}

const USER_LIST = 'users';
/** A filtered page reads the index in chunks of this many users, for at most MAX_ROUNDS chunks. */
const FILTERED_CHUNK = 100;
const MAX_ROUNDS = 3;

/**
 * GET /v1/users: enrolled users in user-id order. Each page does bounded work,
 * whatever the filter: at most MAX_ROUNDS reads of the index (and the batch reads
 * of the users it names). A filtered page may so hold fewer than `limit` users,
 * even none, and still carry a cursor; `nextCursor` is null exactly on the last page.
 */
export async function listUsers({ deps, tenant }: TenantContext, query: Record<string, string | undefined>) {
  const limit = parseLimit(query.limit);
  const status = query.status;
  if (status !== undefined && status !== 'enabled' && status !== 'pending') {
    throw invalidRequest('status must be enabled or pending');
  }
  const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  let after =
    query.cursor === undefined
      ? undefined
      : decodeCursor(keys.cursors, tenant.tenantId, USER_LIST, query.cursor);
  const now = deps.now();
  const matches = (user: UserRecord) => {
    const enabled = user.active !== undefined;
    const pending = livePending(user, now) !== undefined;
    return status === 'enabled' ? enabled : status === 'pending' ? pending : enabled || pending;
  };
  const page = (users: UserRecord[], nextAfter: string | undefined) => ({
    users: users.map((user) => {
      const view = userStatus(user, tenant.settings, now);
      return {
        userId: user.userId,
        enabled: view.enabled,
        pending: view.pending,
        confirmedAt: view.confirmedAt,
        lastVerifiedAt: view.lastVerifiedAt,
        lockedUntil: view.lockedUntil,
      };
    }),
    nextCursor:
      nextAfter === undefined ? null : encodeCursor(keys.cursors, tenant.tenantId, USER_LIST, nextAfter),
  });

  const found: UserRecord[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // One more than the page holds, so that the last page is known to be the last.
    const wanted = limit + 1 - found.length;
    const chunk = await deps.store.listUsers(
      tenant.tenantId,
      after,
      status === undefined ? wanted : Math.max(wanted, FILTERED_CHUNK),
    );
    for (const user of chunk.users) {
      if (!matches(user)) continue;
      if (found.length === limit) return page(found, found.at(-1)?.userId);
      found.push(user);
    }
    after = chunk.lastUserId;
    if (!chunk.more || after === undefined) return page(found, undefined);
  }
  // The work for this page is done: the next one starts after the last user examined.
  return page(found, after);
}

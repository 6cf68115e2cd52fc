import type { UserRecord } from '../domain/user.ts';
import { lockedUntil, lockUnreported } from '../domain/lockout.ts';
import { limitEvent } from './failedAttempts.ts';
import type { TenantContext } from './context.ts';
import { publishEvents, securityEvent, wanted } from './events.ts';
import { getStatus } from './status.ts';

/** POST /v1/users/{userId}/unlock: lifts the timed lock; not the disable, nor the count toward it. */
export async function unlockUser(ctx: TenantContext, userId: string, user: UserRecord | undefined) {
  const { deps, tenant } = ctx;
  // An event only when a lock is lifted: an unlock of an unlocked user changes nothing.
  const locked = user !== undefined && lockedUntil(user, tenant.settings.lockout, deps.now()) !== undefined;
  // A lock its request left unreported (it died after the failure) is reported first, in this write.
  const missed =
    locked && lockUnreported(user) && user.lastFailureAt !== undefined
      ? [limitEvent(ctx, userId, 'lock', user.lastFailureAt, user)]
      : [];
  const events = locked
    ? await wanted(ctx, [...missed, securityEvent(ctx, 'tfa.user.unlocked', userId)])
    : [];
  if (user && (await deps.store.unlock(user, events))) {
    await publishEvents(ctx, deps.store.userRef(tenant.tenantId, userId), events);
    await ctx.audit({ action: 'unlock', userId, outcome: 'success' });
    return getStatus(ctx, userId, { ...user, lockFailures: 0 }, true);
  }
  await ctx.audit({ action: 'unlock', userId, outcome: 'not_found' });
  return getStatus(ctx, userId, undefined, true);
}

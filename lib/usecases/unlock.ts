import type { UserRecord } from '../domain/user.ts';
import type { TenantContext } from './context.ts';
import { getStatus } from './status.ts';

/** POST /v1/users/{userId}/unlock: lifts the timed lock; not the disable, nor the count toward it. */
export async function unlockUser(ctx: TenantContext, userId: string, user: UserRecord | undefined) {
  if (user && (await ctx.deps.store.unlock(user))) {
    await ctx.audit({ action: 'unlock', userId, outcome: 'success' });
    return getStatus(ctx, userId, { ...user, lockFailures: 0 }, true);
  }
  await ctx.audit({ action: 'unlock', userId, outcome: 'not_found' });
  return getStatus(ctx, userId, undefined, true);
}

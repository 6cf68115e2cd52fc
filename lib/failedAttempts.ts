import type { TenantContext } from './context.ts';
import { DISABLE_AFTER, planFailure } from './domain/lockout.ts';
import { lockRemaining, type UserRecord } from './domain/user.ts';
import { ApiError, serviceUnavailable } from './errors.ts';

export type FailureOutcome =
  | { kind: 'counted'; lockedNow: boolean; disabledNow: boolean }
  | { kind: 'locked'; retryAfterMs: number }
  | { kind: 'gone' };

/**
 * Records one wrong code. Increments race freely below the thresholds; the failure
 * that reaches the lock (or the disable) is a compare-and-set, so exactly one
 * request sets it and every other one, on re-reading, finds the user locked.
 */
export async function countFailure(ctx: TenantContext, read: UserRecord): Promise<FailureOutcome> {
  const { deps } = ctx;
  const { lockout } = ctx.tenant.settings;
  let user: UserRecord | undefined = read;
  for (let attempt = 0; attempt < 8; attempt++) {
    if (!user) return { kind: 'gone' };
    const now = deps.now();
    const remaining = lockRemaining(user, now);
    if (remaining > 0) return { kind: 'locked', retryAfterMs: remaining };
    const plan = planFailure(user, lockout, now);
    const result = await deps.store.recordFailure(user, plan, now);
    if (result.applied) {
      const lockedNow = plan.kind === 'threshold' && plan.lockedUntil !== undefined;
      const disabledNow = plan.kind === 'threshold' && plan.disable;
      if (lockedNow) {
        deps.counters.count('Lockout');
        await ctx.audit({
          action: 'lockout',
          userId: read.userId,
          outcome: 'locked',
          reason: `${lockout.maxFailures} failed attempts: locked for ${lockout.lockSeconds} s`,
        });
      }
      if (disabledNow) {
        deps.counters.count('Disable');
        await ctx.audit({
          action: 'lockout',
          userId: read.userId,
          outcome: 'disabled',
          reason: `${DISABLE_AFTER} consecutive failed attempts: authenticator disabled`,
        });
      }
      return { kind: 'counted', lockedNow, disabledNow };
    }
    user = result.current ?? (await deps.store.getUser(read.tenantId, read.userId));
  }
  throw serviceUnavailable('the database, under contention,');
}

export const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The HTTP error for confirm (or any call other than verify) while the user is locked. */
export const lockedError = (retryAfterMs: number) =>
  new ApiError(423, 'locked', 'too many failed attempts; retry later', {
    'retry-after': String(retryAfterSeconds(retryAfterMs)),
  });

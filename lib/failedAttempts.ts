import type { TenantContext } from './context.ts';
import { randomUUID } from 'node:crypto';
import { DISABLE_AFTER, type FailurePlan, planFailure } from './domain/lockout.ts';
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
  const token = randomUUID();
  let user: UserRecord | undefined = read;
  let tried: FailurePlan | undefined;
  for (let attempt = 0; attempt < 8; attempt++) {
    if (!user) return { kind: 'gone' };
    // A lost reply whose SDK retry then failed its condition: if the store holds our
    // token, the first attempt committed, and this failure is counted already.
    if (tried && user.lastFailureToken === token) return counted(ctx, read.userId, tried);
    const now = deps.now();
    const remaining = lockRemaining(user, now);
    if (remaining > 0) return { kind: 'locked', retryAfterMs: remaining };
    tried = planFailure(user, lockout, now);
    const result = await deps.store.recordFailure(user, tried, token, now);
    if (result.applied) return counted(ctx, read.userId, tried);
    user = result.current ?? (await deps.store.getUser(read.tenantId, read.userId));
  }
  throw serviceUnavailable('the database, under contention,');
}

/** A counted failure: the lock or the disable it set, if any, is audited and counted. */
async function counted(ctx: TenantContext, userId: string, plan: FailurePlan): Promise<FailureOutcome> {
  const { lockout } = ctx.tenant.settings;
  const lockedNow = plan.kind === 'threshold' && plan.lockedUntil !== undefined;
  const disabledNow = plan.kind === 'threshold' && plan.disable;
  if (lockedNow) {
    ctx.deps.counters.count('Lockout');
    await ctx.audit({
      action: 'lockout',
      userId,
      outcome: 'locked',
      reason: `${lockout.maxFailures} failed attempts: locked for ${lockout.lockSeconds} s`,
    });
  }
  if (disabledNow) {
    ctx.deps.counters.count('Disable');
    await ctx.audit({
      action: 'lockout',
      userId,
      outcome: 'disabled',
      reason: `${DISABLE_AFTER} consecutive failed attempts: authenticator disabled`,
    });
  }
  return { kind: 'counted', lockedNow, disabledNow };
}

export const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The HTTP error for confirm (or any call other than verify) while the user is locked. */
export const lockedError = (retryAfterMs: number) =>
  new ApiError(423, 'locked', 'too many failed attempts; retry later', {
    'retry-after': String(retryAfterSeconds(retryAfterMs)),
  });

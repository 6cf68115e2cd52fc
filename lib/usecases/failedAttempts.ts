import type { TenantContext } from './context.ts';
import { again, done, untilApplied } from './optimistic.ts';
import { randomUUID } from 'node:crypto';
import {
  DISABLE_AFTER,
  type FailureCounts,
  failureEffects,
  isDisabled,
  lockRemaining,
  planFailure,
} from '../domain/lockout.ts';
import type { ClockSkew, UserRecord } from '../domain/user.ts';
import { locked } from '../errors.ts';

export type FailureOutcome =
  | { kind: 'counted'; lockedNow: boolean; disabledNow: boolean }
  | { kind: 'locked'; retryAfterMs: number }
  | { kind: 'disabled' }
  | { kind: 'gone' };

/**
 * Records one wrong code, if the guess budget still admits it. The store counts it
 * in one conditional write, and the failure that reaches `maxFailures` is the lock
 * itself: an attempt the store refuses is answered `locked` (or, at verify,
 * `disabled`), whatever its code. `bindsDisable` is false at the confirm of a new
 * authenticator for all; `weight` is the number of authenticators the code was
 * checked against, each counting one failure; `clockSkew` is the hint for support
 * when the code matched outside the window, recorded in the same write.
 */
export async function countFailure(
  ctx: TenantContext,
  read: UserRecord,
  attempt: { bindsDisable: boolean; weight: number; clockSkew?: ClockSkew | undefined },
): Promise<FailureOutcome> {
  const { bindsDisable, weight, clockSkew } = attempt;
  const { deps } = ctx;
  const { lockout } = ctx.tenant.settings;
  const token = randomUUID();
  return untilApplied<UserRecord | undefined, FailureOutcome>(read, async (user, tries) => {
    if (!user) return done({ kind: 'gone' });
    // A lost reply whose SDK retry then failed its condition: if the store holds our
    // token, the first attempt committed, and this failure is counted already.
    if (tries > 0 && user.lastFailureToken === token)
      return done(await counted(ctx, read.userId, user, weight));
    if (bindsDisable && isDisabled(user)) return done({ kind: 'disabled' });
    const nowMs = deps.now();
    const remaining = lockRemaining(user, lockout, nowMs);
    if (remaining > 0) return done({ kind: 'locked', retryAfterMs: remaining });
    const plan = planFailure(user, lockout, bindsDisable, weight);
    const result = await deps.store.recordFailure(user, plan, token, { nowMs, lockout }, clockSkew);
    if (result.applied) return done(await counted(ctx, read.userId, result.counts, weight));
    return again(result.current ?? (await deps.store.getUser(read.tenantId, read.userId)));
  });
}

/** A counted failure: the lock or the disable it set, if any, is audited and counted. */
async function counted(
  ctx: TenantContext,
  userId: string,
  after: FailureCounts,
  weight: number,
): Promise<FailureOutcome> {
  const { lockout } = ctx.tenant.settings;
  const { lockedNow, disabledNow } = failureEffects(after, lockout, weight);
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

/** The error for confirm while the user is locked (verify answers it in its body). */
export const lockedError = (retryAfterMs: number) => locked(retryAfterSeconds(retryAfterMs));

import type { TenantContext } from './context.ts';
import { again, done, untilApplied } from './optimistic.ts';
import { randomUUID } from 'node:crypto';
import {
  countsAfter,
  DISABLE_AFTER,
  type FailurePlan,
  isDisabled,
  lockRemaining,
  planFailure,
} from '../domain/lockout.ts';
import type { SecurityEvent } from '../domain/webhooks.ts';
import { publishEvents, securityEvent } from './events.ts';
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
  // The write last tried: when a retry finds it committed, its plan is what it did.
  let last: { plan: FailurePlan; events: SecurityEvent[] } | undefined;
  return untilApplied<UserRecord | undefined, FailureOutcome>(read, async (user, tries) => {
    if (!user) return done({ kind: 'gone' });
    // A lost reply whose SDK retry then failed its condition: if the store holds our
    // token, the first attempt committed, and this failure is counted already.
    if (tries > 0 && last && user.lastFailureToken === token) return done(await counted(ctx, read, last));
    if (bindsDisable && isDisabled(user)) return done({ kind: 'disabled' });
    const nowMs = deps.now();
    const remaining = lockRemaining(user, lockout, nowMs);
    if (remaining > 0) return done({ kind: 'locked', retryAfterMs: remaining });
    const plan = planFailure(user, lockout, bindsDisable, weight);
    last = { plan, events: limitEvents(ctx, read.userId, plan, nowMs) };
    const result = await deps.store.recordFailure(
      user,
      plan,
      token,
      { nowMs, lockout },
      clockSkew,
      last.events,
    );
    if (result.applied) return done(await counted(ctx, read, last));
    return again(result.current ?? (await deps.store.getUser(read.tenantId, read.userId)));
  });
}

/** The events of a failure that sets the lock or the disable: in its write (FailurePlan). */
function limitEvents(ctx: TenantContext, userId: string, plan: FailurePlan, nowMs: number): SecurityEvent[] {
  const after = countsAfter(plan);
  const { lockSeconds } = ctx.tenant.settings.lockout;
  return [
    ...(plan.locks
      ? [
          securityEvent(ctx, 'tfa.user.locked', userId, {
            lockedUntil: new Date(nowMs + lockSeconds * 1000).toISOString(),
            failedAttempts: after.lockFailures,
          }),
        ]
      : []),
    ...(plan.disables
      ? [securityEvent(ctx, 'tfa.user.disabled', userId, { consecutiveFailures: after.consecutiveFailures })]
      : []),
  ];
}

/** A counted failure: the lock or the disable it set, if any, is published, audited and counted. */
async function counted(
  ctx: TenantContext,
  user: UserRecord,
  { plan, events }: { plan: FailurePlan; events: SecurityEvent[] },
): Promise<FailureOutcome> {
  const { lockout } = ctx.tenant.settings;
  const { userId } = user;
  await publishEvents(ctx.deps, ctx.deps.store.userRef(user.tenantId, userId), events);
  if (plan.locks) {
    ctx.deps.counters.count('Lockout');
    await ctx.audit({
      action: 'lockout',
      userId,
      outcome: 'locked',
      reason: `${lockout.maxFailures} failed attempts: locked for ${lockout.lockSeconds} s`,
    });
  }
  if (plan.disables) {
    ctx.deps.counters.count('Disable');
    await ctx.audit({
      action: 'lockout',
      userId,
      outcome: 'disabled',
      reason: `${DISABLE_AFTER} consecutive failed attempts: authenticator disabled`,
    });
  }
  return { kind: 'counted', lockedNow: plan.locks, disabledNow: plan.disables };
}

export const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The error for confirm while the user is locked (verify answers it in its body). */
export const lockedError = (retryAfterMs: number) => locked(retryAfterSeconds(retryAfterMs));

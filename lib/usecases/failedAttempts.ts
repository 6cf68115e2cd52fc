import type { TenantContext } from './context.ts';
import { again, done, untilApplied } from './optimistic.ts';
import { randomUUID } from 'node:crypto';
import {
  DISABLE_AFTER,
  disableUnreported,
  type FailureCounts,
  failureEffects,
  isDisabled,
  lockRemaining,
  lockUnreported,
  planFailure,
} from '../domain/lockout.ts';
import { publishEvents, securityEvent, wanted } from './events.ts';
import { type ClockSkew, emptyUser, type UserRecord } from '../domain/user.ts';
import { logger } from '../observability/logger.ts';
import { locked } from '../errors.ts';
import type { KeptVerify } from '../store/port.ts';

export type FailureOutcome =
  | { kind: 'counted'; lockedNow: boolean; disabledNow: boolean }
  | { kind: 'locked'; retryAfterMs: number }
  | { kind: 'disabled' }
  | { kind: 'gone' }
  /** The same Idempotency-Key's other attempt got there first: its kept answer. */
  | { kind: 'kept'; answer: unknown };

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
  attempt: {
    bindsDisable: boolean;
    weight: number;
    clockSkew?: ClockSkew | undefined;
    /** A verify's answer to keep in the write (lib/usecases/verifyMemory.ts) ... */
    keep?: KeptVerify | undefined;
    /** ... and how to read the one kept there, should another attempt under its key win. */
    kept?: (user: UserRecord) => Promise<unknown>;
  },
): Promise<FailureOutcome> {
  const { bindsDisable, weight, clockSkew, keep, kept } = attempt;
  const { deps } = ctx;
  const { lockout } = ctx.tenant.settings;
  const token = randomUUID();
  return untilApplied<UserRecord | undefined, FailureOutcome>(read, async (user, tries) => {
    if (!user) return done({ kind: 'gone' });
    // A lost reply whose SDK retry then failed its condition: if the store holds our
    // token, the first attempt committed, and this failure is counted already.
    if (tries > 0 && user.lastFailureToken === token)
      return done(await counted(ctx, read.userId, user, weight));
    const answer = tries > 0 && kept ? await kept(user) : undefined;
    if (answer !== undefined) return done({ kind: 'kept', answer });
    if (bindsDisable && isDisabled(user)) {
      await reportUnreported(ctx, user);
      return done({ kind: 'disabled' });
    }
    const nowMs = deps.now();
    const remaining = lockRemaining(user, lockout, nowMs);
    if (remaining > 0) {
      await reportUnreported(ctx, user);
      return done({ kind: 'locked', retryAfterMs: remaining });
    }
    const plan = planFailure(user, lockout, bindsDisable, weight);
    // The lock this failure restarts the count after: reported now if its request never did.
    if (plan.kind === 'restart') await reportUnreported(ctx, user);
    const admission = { nowMs, lockout, ...(keep ? { remember: keep } : {}) };
    const result = await deps.store.recordFailure(user, plan, token, admission, clockSkew);
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
  const failedAt = after.lastFailureAt ?? ctx.deps.now();
  const user = { tenantId: ctx.tenant.tenantId, userId };
  if (lockedNow) await reportLimit(ctx, user, 'lock', failedAt, after);
  if (disabledNow) await reportLimit(ctx, user, 'disable', failedAt, after);
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

/**
 * Reports a limit (lib/domain/lockout.ts, LimitReports): its event, once per limit,
 * written beside the mark that it was reported, then published. A failure here is
 * logged: the next request that meets the limit reports it.
 */
async function reportLimit(
  ctx: TenantContext,
  user: Pick<UserRecord, 'tenantId' | 'userId'>,
  limit: 'lock' | 'disable',
  failedAt: number,
  counts: FailureCounts,
) {
  const { deps, tenant } = ctx;
  try {
    // Marked reported even when no endpoint wants it: the requests that meet it look no further.
    const events = await wanted(ctx, [limitEvent(ctx, user.userId, limit, failedAt, counts)]);
    const record = { ...emptyUser(tenant.tenantId, user.userId), ...counts };
    if (await deps.store.reportOnce(record, limit, failedAt, events)) {
      await publishEvents(ctx, deps.store.userRef(tenant.tenantId, user.userId), events);
    }
  } catch (error) {
    logger().warn('security events: a limit could not be reported now', { error, limit });
  }
}

/**
 * A limit that no request reported (its request died after the failure), in force or (a
 * lock) expired since, as long as nothing counted after it: reported now.
 */
export async function reportUnreported(ctx: TenantContext, user: UserRecord) {
  const { lockout } = ctx.tenant.settings;
  const failedAt = user.lastFailureAt;
  if (failedAt === undefined) return;
  if (user.lockFailures >= lockout.maxFailures && lockUnreported(user))
    await reportLimit(ctx, user, 'lock', failedAt, user);
  if (isDisabled(user) && disableUnreported(user)) await reportLimit(ctx, user, 'disable', failedAt, user);
}

/** The event of a limit: tfa.user.locked, with when it ends; tfa.user.disabled. */
export function limitEvent(
  ctx: TenantContext,
  userId: string,
  limit: 'lock' | 'disable',
  failedAt: number,
  counts: FailureCounts,
) {
  return limit === 'lock'
    ? securityEvent(ctx, 'tfa.user.locked', userId, {
        lockedUntil: new Date(failedAt + ctx.tenant.settings.lockout.lockSeconds * 1000).toISOString(),
        failedAttempts: counts.lockFailures,
      })
    : securityEvent(ctx, 'tfa.user.disabled', userId, { consecutiveFailures: counts.consecutiveFailures });
}

export const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The error for confirm while the user is locked (verify answers it in its body). */
export const lockedError = (retryAfterMs: number) => locked(retryAfterSeconds(retryAfterMs));

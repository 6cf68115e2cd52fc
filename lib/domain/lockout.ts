import type { UserRecord } from './user.ts';

/** NIST SP 800-63B rev 4: at most 100 consecutive failures, then the authenticator is disabled. */
export const DISABLE_AFTER = 100;

export interface LockoutSettings {
  maxFailures: number;
  lockSeconds: number;
}

/**
 * How to record one failed attempt so that concurrent failures are all counted and
 * exactly one of them crosses each threshold.
 * - `count`: a plain atomic increment, allowed by the store only while the counts
 *   stay below both thresholds after it; it never needs to retry under load.
 * - `threshold`: this failure reaches the lock or the disable, so it is a
 *   compare-and-set on the counts it read; a loser re-reads and sees the lock.
 */
export type FailurePlan =
  | { kind: 'count'; failedBelow: number; consecutiveBelow: number }
  | {
      kind: 'threshold';
      expectFailed: number;
      expectConsecutive: number;
      failedAttempts: number;
      lockedUntil?: number;
      disable: boolean;
    };

export function planFailure(user: UserRecord, lockout: LockoutSettings, nowMs: number): FailurePlan {
  const failed = user.failedAttempts + 1;
  const consecutive = user.consecutiveFailures + 1;
  const lock = failed >= lockout.maxFailures;
  const disable = consecutive >= DISABLE_AFTER;
  if (!lock && !disable) {
    return { kind: 'count', failedBelow: lockout.maxFailures - 1, consecutiveBelow: DISABLE_AFTER - 1 };
  }
  return {
    kind: 'threshold',
    expectFailed: user.failedAttempts,
    expectConsecutive: user.consecutiveFailures,
    failedAttempts: lock ? 0 : failed,
    ...(lock ? { lockedUntil: nowMs + lockout.lockSeconds * 1000 } : {}),
    disable,
  };
}

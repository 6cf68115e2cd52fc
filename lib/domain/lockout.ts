/**
 * The guess budget (docs/api.md, Verify, rules). The lock is not a stored flag but a fact
 * derived from what the store counts: `maxFailures` failures in this lock period,
 * the last of them less than `lockSeconds` ago. So the failure that reaches the
 * limit locks in the very write that counts it, and every accepting write (verify's
 * step, a recovery code, confirm's activation) carries the same rule as its store
 * condition (`admitted` in lib/store/dynamoStore.ts). However many attempts are in
 * flight, the store judges them one at a time against the same counts.
 */

/** NIST SP 800-63B rev 4: at most 100 consecutive failures, then the authenticator is disabled. */
export const DISABLE_AFTER = 100;

export interface LockoutSettings {
  maxFailures: number;
  lockSeconds: number;
}

/** What the budget is decided from: the counts kept on the user's item. */
export interface FailureCounts {
  /** Failures counted in the current lock period; reset by a valid code or an unlock. */
  lockFailures: number;
  /** When the last counted failure was written (Unix ms). */
  lastFailureAt?: number;
  /** Failures since the last valid code, across locks; DISABLE_AFTER of them disable. */
  consecutiveFailures: number;
}

/** The end of the timed lock in force at `nowMs`, or undefined when there is none. */
export function lockedUntil(
  counts: FailureCounts,
  lockout: LockoutSettings,
  nowMs: number,
): number | undefined {
  if (counts.lockFailures < lockout.maxFailures || counts.lastFailureAt === undefined) return undefined;
  const until = counts.lastFailureAt + lockout.lockSeconds * 1000;
  return until > nowMs ? until : undefined;
}

/** Milliseconds until the timed lock ends, or 0. */
export const lockRemaining = (counts: FailureCounts, lockout: LockoutSettings, nowMs: number): number =>
  (lockedUntil(counts, lockout, nowMs) ?? nowMs) - nowMs;

/** The disable binds the existing authenticators only: a confirmed reconfigure is the way out. */
export const isDisabled = (counts: FailureCounts): boolean => counts.consecutiveFailures >= DISABLE_AFTER;

/**
 * How the store is to count one more failure of a user who is not locked now.
 * - `count`: an atomic increment, admitted only while fewer than `maxFailures`
 *   are counted; the increment that reaches it is the lock.
 * - `restart`: the last lock has expired, so the count starts again at 1; a
 *   compare-and-set on the expiry, so that of racing failures one restarts the
 *   count and the others, re-reading, increment it.
 * `bindsDisable`: at verify, no failure is counted past the disable; at confirm
 * of a reconfigure (a new authenticator for all), the disable of the old ones does
 * not bind. `weight`: how many authenticators the wrong code was checked against; the
 * attempt counts that many failures, so the chance that a guess succeeds within a
 * lock period does not grow with the number of authenticators.
 */
export interface FailurePlan {
  kind: 'count' | 'restart';
  bindsDisable: boolean;
  weight: number;
}

export const planFailure = (
  counts: FailureCounts,
  lockout: LockoutSettings,
  bindsDisable: boolean,
  weight: number,
): FailurePlan => ({
  kind: counts.lockFailures >= lockout.maxFailures ? 'restart' : 'count',
  bindsDisable,
  weight,
});

/** What a counted failure did: the counts after it say whether it set the lock or the disable. */
export const failureEffects = (after: FailureCounts, lockout: LockoutSettings, weight: number) => ({
  lockedNow: after.lockFailures >= lockout.maxFailures,
  // Each write adds its weight atomically, so exactly one failure crosses DISABLE_AFTER.
  disabledNow:
    after.consecutiveFailures >= DISABLE_AFTER && after.consecutiveFailures - weight < DISABLE_AFTER,
});

/**
 * The events of the limits (tfa.user.locked, tfa.user.disabled) are written right after
 * the failure that set them, by its request: not in that write, since every failure
 * must be able to set the lock (a burst of parallel guesses is locked by whichever lands
 * on the limit), and a write cannot carry an event only if it turns out to cross. Each
 * is reported once, by the failure time that set it; a limit that a crash left
 * unreported is reported by the next request that meets it.
 */
export interface LimitReports {
  lastFailureAt?: number;
  lastVerifiedAt?: number;
  lockReportedAt?: number;
  disableReportedAt?: number;
}

/** The lock in force was not reported (its failure time is the last one: none is counted while locked). */
export const lockUnreported = (user: LimitReports): boolean =>
  user.lastFailureAt !== undefined && (user.lockReportedAt ?? -1) < user.lastFailureAt;

/** The disable in force was not reported since the last valid code. */
export const disableUnreported = (user: LimitReports): boolean =>
  user.disableReportedAt === undefined || user.disableReportedAt <= (user.lastVerifiedAt ?? -1);

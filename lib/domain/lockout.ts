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
 *
 * `locks` and `disables`: this failure, counted on the counts read (`from`), sets the
 * lock or the disable. Such a write holds only on exactly those counts, and carries the
 * security event; every other failure is admitted only while it stays short of both
 * limits. So however many failures race, exactly one write sets each lock, and its
 * event is in it (tfa.user.locked, once per lock).
 */
export interface FailurePlan {
  kind: 'count' | 'restart';
  bindsDisable: boolean;
  weight: number;
  from: FailureCounts;
  locks: boolean;
  disables: boolean;
}

export function planFailure(
  counts: FailureCounts,
  lockout: LockoutSettings,
  bindsDisable: boolean,
  weight: number,
): FailurePlan {
  const kind = counts.lockFailures >= lockout.maxFailures ? 'restart' : 'count';
  const after = countsAfter({ kind, weight, from: counts });
  return {
    kind,
    bindsDisable,
    weight,
    from: { lockFailures: counts.lockFailures, consecutiveFailures: counts.consecutiveFailures },
    locks: after.lockFailures >= lockout.maxFailures,
    // Past the disable already (a confirm that it does not bind): nothing more to set.
    disables: counts.consecutiveFailures < DISABLE_AFTER && after.consecutiveFailures >= DISABLE_AFTER,
  };
}

/** The counts once the failure is written on the counts it was planned from. */
export const countsAfter = (plan: Pick<FailurePlan, 'kind' | 'weight' | 'from'>) => ({
  lockFailures: (plan.kind === 'restart' ? 0 : plan.from.lockFailures) + plan.weight,
  consecutiveFailures: plan.from.consecutiveFailures + plan.weight,
});

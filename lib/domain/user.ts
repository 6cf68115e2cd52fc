import { isDisabled, type FailureCounts, type LockoutSettings, lockedUntil } from './lockout.ts';
import type { ImportOrigin } from './audit.ts';
import { isWeak } from './cpanel.ts';
import type { Policy, TotpParams } from './settings.ts';

/** One authenticator: a sealed secret and the parameters and issuer it was made with. */
export interface Enrolment extends TotpParams {
  /** Random id, bound into the sealed secret's AAD: the "record version" of DESIGN.md. */
  id: string;
  sealedSecret: Uint8Array;
  issuer: string;
  accountName: string;
  createdAt: number;
  /** `import`: moved here from cPanel; absent: made by setup here. */
  source?: 'import';
  /** The secret's length in bytes; absent for setup's, which are always 20. */
  secretBytes?: number;
  /** An import's: who imported it, in which request (its audit event is built from it). */
  origin?: ImportOrigin;
}

export interface PendingEnrolment extends Enrolment {
  expiresAt: number;
}

export interface ActiveEnrolment extends Enrolment {
  confirmedAt: number;
}

/**
 * A user's whole 2FA state: one item in the store. Times are Unix milliseconds.
 * The lock and the disable are not stored: they follow from the counts (lockout.ts).
 */
export interface UserRecord extends FailureCounts {
  tenantId: string;
  userId: string;
  active?: ActiveEnrolment;
  pending?: PendingEnrolment;
  /** Keyed hashes of the unspent recovery codes of the active enrolment. */
  recoveryHashes: Uint8Array[];
  /** The latest time step accepted: a code of this step or an earlier one is a replay. */
  lastUsedStep?: number;
  /** Written with lastUsedStep so that an SDK retry can recognise its own committed write. */
  lastStepToken?: string;
  /** Written with a recovery-code spend, for the same reason as lastStepToken. */
  lastRecoveryToken?: string;
  /** The hash of the recovery code spent last: sent again (a retry, a double click), it is a replay. */
  lastRecoveryHash?: Uint8Array;
  /** Written with each counted failure, for the same reason. */
  lastFailureToken?: string;
  lastVerifiedAt?: number;
}

export const emptyUser = (tenantId: string, userId: string): UserRecord => ({
  tenantId,
  userId,
  recoveryHashes: [],
  lockFailures: 0,
  consecutiveFailures: 0,
});

/** Shorter than RFC 4226's 128 bits, as cPanel's 80-bit secrets are. */
export const isWeakSecret = (enrolment: Enrolment) => isWeak(enrolment.secretBytes ?? 20);

/** A pending enrolment counts only until it expires; the store's TTL may be late. */
export const livePending = (user: UserRecord, nowMs: number): PendingEnrolment | undefined =>
  user.pending && user.pending.expiresAt > nowMs ? user.pending : undefined;

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** The status object of the contract. `failedAttempts` counts failures since the last valid code. */
export function userStatus(
  user: UserRecord | undefined,
  settings: { policy: Policy; lockout: LockoutSettings },
  nowMs: number,
) {
  const record = user ?? emptyUser('', '');
  const enabled = record.active !== undefined;
  return {
    userId: record.userId,
    enabled,
    pending: livePending(record, nowMs) !== undefined,
    enforced: enabled && settings.policy === 'enabled',
    confirmedAt: iso(record.active?.confirmedAt),
    lastVerifiedAt: iso(record.lastVerifiedAt),
    failedAttempts: record.consecutiveFailures,
    lockedUntil: iso(lockedUntil(record, settings.lockout, nowMs)),
    disabled: isDisabled(record),
    recoveryCodesRemaining: enabled ? record.recoveryHashes.length : 0,
    source: record.active ? (record.active.source ?? 'setup') : null,
    weakSecret: record.active ? isWeakSecret(record.active) : null,
  };
}

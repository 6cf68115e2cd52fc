import type { Policy, TotpParams } from './settings.ts';

/** One authenticator: a sealed secret and the parameters and issuer it was made with. */
export interface Enrolment extends TotpParams {
  /** Random id, bound into the sealed secret's AAD: the "record version" of DESIGN.md. */
  id: string;
  sealedSecret: Uint8Array;
  issuer: string;
  accountName: string;
  createdAt: number;
}

export interface PendingEnrolment extends Enrolment {
  expiresAt: number;
}

export interface ActiveEnrolment extends Enrolment {
  confirmedAt: number;
}

/** A user's whole 2FA state: one item in the store. Times are Unix milliseconds. */
export interface UserRecord {
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
  /** Written with each counted failure, for the same reason. */
  lastFailureToken?: string;
  lastVerifiedAt?: number;
  /** Failures toward the timed lock; set back to 0 when the lock is set. */
  failedAttempts: number;
  /** Failures since the last valid code, across locks; DISABLE_AFTER of them disable. */
  consecutiveFailures: number;
  lockedUntil?: number;
  disabled: boolean;
}

export const emptyUser = (tenantId: string, userId: string): UserRecord => ({
  tenantId,
  userId,
  recoveryHashes: [],
  failedAttempts: 0,
  consecutiveFailures: 0,
  disabled: false,
});

/** A pending enrolment counts only until it expires; the store's TTL may be late. */
export const livePending = (user: UserRecord, nowMs: number): PendingEnrolment | undefined =>
  user.pending && user.pending.expiresAt > nowMs ? user.pending : undefined;

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** Milliseconds until the timed lock ends, or 0. */
export const lockRemaining = (user: UserRecord, nowMs: number): number =>
  user.lockedUntil !== undefined && user.lockedUntil > nowMs ? user.lockedUntil - nowMs : 0;

/** The status object of the contract. `failedAttempts` counts failures since the last valid code. */
export function userStatus(user: UserRecord | undefined, policy: Policy, nowMs: number) {
  const record = user ?? emptyUser('', '');
  const enabled = record.active !== undefined;
  const locked = lockRemaining(record, nowMs) > 0;
  return {
    userId: record.userId,
    enabled,
    pending: livePending(record, nowMs) !== undefined,
    enforced: enabled && policy === 'enabled',
    confirmedAt: iso(record.active?.confirmedAt),
    lastVerifiedAt: iso(record.lastVerifiedAt),
    failedAttempts: record.consecutiveFailures,
    lockedUntil: locked ? iso(record.lockedUntil) : null,
    disabled: record.disabled,
    recoveryCodesRemaining: enabled ? record.recoveryHashes.length : 0,
  };
}

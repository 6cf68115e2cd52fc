import { isDisabled, type FailureCounts, type LockoutSettings, lockedUntil } from './lockout.ts';
import type { ImportOrigin } from './audit.ts';
import { type EnrolmentSettings, enrolmentView, type Registration } from './enrolment.ts';
import { isWeak } from './imports/secret.ts';
import type { Policy, TotpParams } from './settings.ts';
import type { VerifyMemory } from './idempotency.ts';

/** An enrolment: a sealed secret and the parameters, issuer and label it was made with. */
export interface Enrolment extends TotpParams {
  /** Random id, bound into the sealed secret's AAD: one secret never opens as another. */
  id: string;
  sealedSecret: Uint8Array;
  issuer: string;
  accountName: string;
  /** Unique among the user's authenticators without regard to case. */
  label: string;
  createdAt: number;
  /** `import`: moved here from another panel; absent: made by setup here. */
  source?: 'import';
  /** An import's format (`cpanel`, ...); absent for setup's and older imports. */
  importedFrom?: string;
  /** The secret's length in bytes; absent for setup's, which are always 20. */
  secretBytes?: number;
  /** Weaknesses the source named beside a short secret (`non_csprng`, `third_party_qr`). */
  weakReasons?: string[];
  /** An import's: who imported it, in which request (its audit event is built from it). */
  origin?: ImportOrigin;
}

/**
 * What a pending enrolment will do once confirmed: `first` and `reconfigure` replace
 * every authenticator and the recovery codes; `add` joins them; `replace` takes the
 * place of one.
 */
export type EnrolMode =
  | { kind: 'first' }
  | { kind: 'reconfigure' }
  | { kind: 'add' }
  | { kind: 'replace'; authenticatorId: string };

export interface PendingEnrolment extends Enrolment {
  expiresAt: number;
  mode: EnrolMode;
}

/** An active authenticator. */
export interface Authenticator extends Enrolment {
  confirmedAt: number;
  lastUsedAt?: number;
}

/** A failed code that matched an authenticator outside the window: a hint for support. */
export interface ClockSkew {
  steps: number;
  at: number;
}

/**
 * A user's whole 2FA state: one item in the store. Times are Unix milliseconds.
 * The lock and the disable are not stored: they follow from the counts (lockout.ts).
 */
export interface UserRecord extends FailureCounts {
  tenantId: string;
  userId: string;
  /** The active authenticators, oldest first. */
  authenticators: Authenticator[];
  /**
   * Changes with every change to the set of authenticators or their labels: a write
   * that judged the set (the cap, a replaced id, a label) holds only while it is
   * unchanged. Undefined while the user has none, and on an item of the first
   * release's shape (one authenticator), which the next such write rewrites.
   */
  authenticatorsVersion?: string;
  pending?: PendingEnrolment;
  /** Keyed hashes of the unspent recovery codes. */
  recoveryHashes: Uint8Array[];
  /**
   * When the latest accepted time step began (Unix seconds), whichever authenticator
   * matched: a code of a step that began then or earlier is a replay. Seconds, not a
   * step number, because authenticators may have different periods.
   */
  lastStepStart?: number;
  /** Written with lastStepStart so that an SDK retry can recognise its own committed write. */
  lastStepToken?: string;
  /** Written with a recovery-code spend, for the same reason as lastStepToken. */
  lastRecoveryToken?: string;
  /** The hash of the recovery code spent last: sent again (a retry, a double click), it is a replay. */
  lastRecoveryHash?: Uint8Array;
  /** Written with each counted failure, for the same reason. */
  lastFailureToken?: string;
  /** The last time step (Unix seconds) a replay was reported for: one tfa.verification.replayed per step. */
  replayedStep?: number;
  /** The failure time (lastFailureAt) of the last lock reported (tfa.user.locked): each lock once. */
  lockReportedAt?: number;
  /** The failure time of the last disable reported (tfa.user.disabled). */
  disableReportedAt?: number;
  lastVerifiedAt?: number;
  clockSkew?: ClockSkew;
  /** Registered: expected to enrol (enrolment.ts). A user enrolled before registration existed has none. */
  registration?: Registration;
  /**
   * The store's bookkeeping of the tenant's enrolment counts: what this user is counted
   * as (enrolment.ts encodeContribution), and whether a change awaits counting.
   */
  counting?: { counted?: string; dirty: boolean };
  /** The answers of verifies sent with an Idempotency-Key, by the key's slot (idempotency.ts). */
  verifyMemories?: Map<string, VerifyMemory>;
}

export const emptyUser = (tenantId: string, userId: string): UserRecord => ({
  tenantId,
  userId,
  authenticators: [],
  recoveryHashes: [],
  lockFailures: 0,
  consecutiveFailures: 0,
});

export const isEnrolled = (user: UserRecord | undefined): user is UserRecord =>
  user !== undefined && user.authenticators.length > 0;

export const findAuthenticator = (user: UserRecord | undefined, id: string): Authenticator | undefined =>
  user?.authenticators.find((a) => a.id === id);

/** Labels are compared without regard to case: "Work phone" and "work PHONE" are one label. */
export const sameLabel = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * `Authenticator N` with the smallest N not in use among `taken`.
 */
export function defaultLabel(taken: readonly string[]): string {
  for (let n = 1; ; n++) {
    const label = `Authenticator ${n}`;
    if (!taken.some((t) => sameLabel(t, label))) return label;
  }
}

/** The labels the user's authenticators keep once `mode` is confirmed: a new label must differ. */
export function labelsBeside(user: UserRecord, mode: EnrolMode): string[] {
  if (mode.kind === 'first' || mode.kind === 'reconfigure') return [];
  return user.authenticators
    .filter((a) => mode.kind === 'add' || a.id !== mode.authenticatorId)
    .map((a) => a.label);
}

/** The authenticators once `pending` is confirmed, oldest first. */
export function afterConfirm(user: UserRecord, pending: Authenticator, mode: EnrolMode): Authenticator[] {
  if (mode.kind === 'first' || mode.kind === 'reconfigure') return [pending];
  const kept =
    mode.kind === 'add'
      ? user.authenticators
      : user.authenticators.filter((a) => a.id !== mode.authenticatorId);
  return [...kept, pending];
}

/** Shorter than RFC 4226's 128 bits, as cPanel's 80-bit secrets are. */
export const isShortSecret = (enrolment: Enrolment) => isWeak(enrolment.secretBytes ?? 20);

/** Why an authenticator's secret is weak: `short`, and whatever its source named. */
export const weakReasons = (enrolment: Enrolment): string[] => [
  ...(isShortSecret(enrolment) ? ['short'] : []),
  ...(enrolment.weakReasons ?? []).filter((reason) => reason !== 'short'),
];

export const isWeakSecret = (enrolment: Enrolment) => weakReasons(enrolment).length > 0;

/** A pending enrolment counts only until it expires; the store's TTL may be late. */
export const livePending = (user: UserRecord, nowMs: number): PendingEnrolment | undefined =>
  user.pending && user.pending.expiresAt > nowMs ? user.pending : undefined;

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** One authenticator as the status shows it: never its secret. */
export const authenticatorView = (a: Authenticator) => ({
  authenticatorId: a.id,
  label: a.label,
  confirmedAt: iso(a.confirmedAt),
  lastUsedAt: iso(a.lastUsedAt),
  source: a.source ?? 'setup',
  importedFrom: a.importedFrom ?? null,
  weakSecret: isWeakSecret(a),
  weakReasons: weakReasons(a),
  algorithm: a.algorithm,
  digits: a.digits,
  period: a.period,
});

/** The most recently confirmed authenticator: the status's top-level fields are its. */
const latest = (authenticators: Authenticator[]) =>
  authenticators.reduce<Authenticator | undefined>(
    (found, a) => (found === undefined || a.confirmedAt >= found.confirmedAt ? a : found),
    undefined,
  );

/**
 * The status object of the contract. `failedAttempts` counts failures since the last
 * valid code. `clockSkew` is shown only when `showClockSkew` (support and admin keys):
 * it would tell a guesser which code will work later.
 */
export function userStatus(
  user: UserRecord | undefined,
  settings: { policy: Policy; lockout: LockoutSettings; enrolment: EnrolmentSettings },
  nowMs: number,
  showClockSkew = false,
) {
  const record = user ?? emptyUser('', '');
  const { authenticators } = record;
  const enabled = authenticators.length > 0;
  const newest = latest(authenticators);
  return {
    userId: record.userId,
    enabled,
    pending: livePending(record, nowMs) !== undefined,
    enforced: enabled && settings.policy === 'enabled',
    confirmedAt: iso(newest?.confirmedAt),
    lastVerifiedAt: iso(record.lastVerifiedAt),
    failedAttempts: record.consecutiveFailures,
    lockedUntil: iso(lockedUntil(record, settings.lockout, nowMs)),
    disabled: isDisabled(record),
    recoveryCodesRemaining: enabled ? record.recoveryHashes.length : 0,
    source: newest ? (newest.source ?? 'setup') : null,
    weakSecret: enabled ? authenticators.some(isWeakSecret) : null,
    authenticators: authenticators.map(authenticatorView),
    ...enrolmentView(enabled, record.registration, settings, nowMs),
    clockSkew:
      showClockSkew && record.clockSkew
        ? { steps: record.clockSkew.steps, at: new Date(record.clockSkew.at).toISOString() }
        : null,
  };
}

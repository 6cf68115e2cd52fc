import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  type Authenticator,
  defaultLabel,
  type EnrolMode,
  type Enrolment,
  type PendingEnrolment,
  type UserRecord,
} from '../domain/user.ts';
import type { Registration } from '../domain/enrolment.ts';
import type { VerifyMemory } from '../domain/idempotency.ts';
import { N, num, str } from './items.ts';

/**
 * A user's item, translated by hand. The authenticators are a map keyed by id
 * (`auths`), so that a verify updates the one that matched in place and the cap, a
 * replaced id or a label is a condition on one item (conditions.ts).
 *
 * The first release kept one authenticator in `active` and the used step as a step
 * number of its period (`lastStep`). Such an item is read as a user with one
 * authenticator, and is rewritten to this shape by the next write that changes its
 * authenticators or accepts a code (legacyUpgrade in userItems.ts); no migration runs.
 */
type Item = Record<string, AttributeValue>;

export const ATTR = {
  registeredAt: 'registeredAt',
  unenrolledSince: 'unenrolledSince',
  ownDueAt: 'ownDueAt',
  exempt: 'exempt',
  counted: 'counted',
  dirtyToken: 'dirtyToken',
  authenticators: 'auths',
  version: 'authsVersion',
  legacyActive: 'active',
  legacyStep: 'lastStep',
  stepStart: 'lastStepAt',
  /** Each kept verify answer is its own attribute, `va_<slot>`: a write adds one without reading the rest. */
  verifyMemoryPrefix: 'va_',
} as const;

export function enrolmentToMap(
  e: Enrolment & { expiresAt?: number; confirmedAt?: number; lastUsedAt?: number },
) {
  const map: Item = {
    id: { S: e.id },
    secret: { B: e.sealedSecret },
    algorithm: { S: e.algorithm },
    digits: N(e.digits),
    period: N(e.period),
    issuer: { S: e.issuer },
    accountName: { S: e.accountName },
    label: { S: e.label },
    createdAt: N(e.createdAt),
  };
  if (e.source !== undefined) map.source = { S: e.source };
  if (e.importedFrom !== undefined) map.importedFrom = { S: e.importedFrom };
  if (e.secretBytes !== undefined) map.secretBytes = N(e.secretBytes);
  if (e.weakReasons !== undefined && e.weakReasons.length > 0) map.weakReasons = { SS: e.weakReasons };
  if (e.origin !== undefined) {
    const origin: Item = {
      requestId: { S: e.origin.requestId },
      keyId: { S: e.origin.keyId },
      keyName: { S: e.origin.keyName },
    };
    if (e.origin.reason !== undefined) origin.reason = { S: e.origin.reason };
    map.origin = { M: origin };
  }
  if (e.expiresAt !== undefined) map.expiresAt = N(e.expiresAt);
  if (e.confirmedAt !== undefined) map.confirmedAt = N(e.confirmedAt);
  if (e.lastUsedAt !== undefined) map.lastUsedAt = N(e.lastUsedAt);
  return map;
}

export const pendingToMap = (p: PendingEnrolment): AttributeValue => {
  const map = enrolmentToMap(p);
  map.mode = { S: p.mode.kind };
  if (p.mode.kind === 'replace') map.replaces = { S: p.mode.authenticatorId };
  return { M: map };
};

export const authenticatorsToMap = (authenticators: Authenticator[]): AttributeValue => ({
  M: Object.fromEntries(authenticators.map((a) => [a.id, { M: enrolmentToMap(a) }])),
});

const originFromMap = (m: Item | undefined): Pick<Enrolment, 'origin'> =>
  m === undefined
    ? {}
    : {
        origin: {
          requestId: str(m.requestId),
          keyId: str(m.keyId),
          keyName: str(m.keyName),
          ...(m.reason?.S === 'overwrite' ? { reason: 'overwrite' as const } : {}),
        },
      };

const enrolmentFromMap = (m: Item, label: string): Enrolment => ({
  ...(m.source?.S === 'import' ? { source: 'import' as const } : {}),
  ...(m.importedFrom?.S === undefined ? {} : { importedFrom: m.importedFrom.S }),
  ...originFromMap(m.origin?.M),
  ...(m.secretBytes?.N === undefined ? {} : { secretBytes: Number(m.secretBytes.N) }),
  ...(m.weakReasons?.SS === undefined ? {} : { weakReasons: m.weakReasons.SS }),
  id: str(m.id),
  sealedSecret: m.secret?.B ?? new Uint8Array(),
  algorithm: str(m.algorithm) as Enrolment['algorithm'],
  digits: num(m.digits) as Enrolment['digits'],
  period: num(m.period) ?? 30,
  issuer: str(m.issuer),
  accountName: str(m.accountName),
  label: m.label?.S ?? label,
  createdAt: num(m.createdAt) ?? 0,
});

function authenticatorFromMap(m: Item, label: string): Authenticator {
  const a: Authenticator = { ...enrolmentFromMap(m, label), confirmedAt: num(m.confirmedAt) ?? 0 };
  const lastUsedAt = num(m.lastUsedAt);
  if (lastUsedAt !== undefined) a.lastUsedAt = lastUsedAt;
  return a;
}

const byAge = (a: Authenticator, b: Authenticator) =>
  a.confirmedAt - b.confirmedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The first release's one authenticator: only cPanel could be imported then. */
function legacyAuthenticator(m: Item): Authenticator {
  const imported = m.source?.S === 'import';
  const a = authenticatorFromMap(m, imported ? 'cPanel' : 'Authenticator 1');
  return imported ? { ...a, importedFrom: 'cpanel' } : a;
}

function modeFromMap(m: Item, enrolled: boolean): EnrolMode {
  const kind = m.mode?.S;
  if (kind === 'replace') return { kind, authenticatorId: str(m.replaces) };
  if (kind === 'first' || kind === 'reconfigure' || kind === 'add') return { kind };
  // The first release's pending enrolment replaced the active one, if any.
  return { kind: enrolled ? 'reconfigure' : 'first' };
}

export function userFromItem(item: Item | undefined): UserRecord | undefined {
  if (!item) return undefined;
  const [, tenantId = '', userId = ''] = str(item.pk).split('#');
  const legacy = item[ATTR.legacyActive]?.M;
  const authenticators = legacy
    ? [legacyAuthenticator(legacy)]
    : Object.values(item[ATTR.authenticators]?.M ?? {})
        .flatMap((value) => (value.M ? [authenticatorFromMap(value.M, '')] : []))
        .sort(byAge);
  const user: UserRecord = {
    tenantId,
    userId,
    authenticators,
    recoveryHashes: item.recovery?.BS ?? [],
    // Stored as failedAttempts, the name it has always had on the item.
    lockFailures: num(item.failedAttempts) ?? 0,
    consecutiveFailures: num(item.consecutiveFailures) ?? 0,
  };
  const version = item[ATTR.version]?.S;
  if (version !== undefined && !legacy) user.authenticatorsVersion = version;
  const pending = item.pending?.M;
  if (pending) {
    const mode = modeFromMap(pending, authenticators.length > 0);
    const taken = mode.kind === 'add' || mode.kind === 'replace' ? authenticators.map((a) => a.label) : [];
    user.pending = {
      ...enrolmentFromMap(pending, defaultLabel(taken)),
      expiresAt: num(pending.expiresAt) ?? 0,
      mode,
    };
  }
  const legacyStep = num(item[ATTR.legacyStep]);
  const stepStart =
    legacy && legacyStep !== undefined
      ? legacyStep * (authenticators[0]?.period ?? 30)
      : num(item[ATTR.stepStart]);
  if (stepStart !== undefined) user.lastStepStart = stepStart;
  if (item.lastStepToken?.S) user.lastStepToken = item.lastStepToken.S;
  if (item.lastRecoveryToken?.S) user.lastRecoveryToken = item.lastRecoveryToken.S;
  if (item.lastFailureToken?.S) user.lastFailureToken = item.lastFailureToken.S;
  const replayedStep = num(item.replayedStep);
  if (replayedStep !== undefined) user.replayedStep = replayedStep;
  const lockReportedAt = num(item.lockReportedAt);
  if (lockReportedAt !== undefined) user.lockReportedAt = lockReportedAt;
  const disableReportedAt = num(item.disableReportedAt);
  if (disableReportedAt !== undefined) user.disableReportedAt = disableReportedAt;
  const lastVerifiedAt = num(item.lastVerifiedAt);
  if (lastVerifiedAt !== undefined) user.lastVerifiedAt = lastVerifiedAt;
  const lastFailureAt = num(item.failedAt);
  if (lastFailureAt !== undefined) user.lastFailureAt = lastFailureAt;
  if (item.lastRecoveryHash?.B) user.lastRecoveryHash = item.lastRecoveryHash.B;
  const skew = item.clockSkew?.M;
  if (skew) user.clockSkew = { steps: num(skew.steps) ?? 0, at: num(skew.at) ?? 0 };
  const registeredAt = num(item[ATTR.registeredAt]);
  if (registeredAt !== undefined) {
    const registration: Registration = { registeredAt, exempt: item[ATTR.exempt]?.BOOL === true };
    const since = num(item[ATTR.unenrolledSince]);
    if (since !== undefined) registration.unenrolledSince = since;
    const dueAt = num(item[ATTR.ownDueAt]);
    if (dueAt !== undefined) registration.dueAt = dueAt;
    user.registration = registration;
  }
  const memories = verifyMemoriesOf(item);
  if (memories.size > 0) user.verifyMemories = memories;
  const counted = item[ATTR.counted]?.S;
  const dirty = item[ATTR.dirtyToken]?.S !== undefined;
  if (counted !== undefined || dirty)
    user.counting = { ...(counted === undefined ? {} : { counted }), dirty };
  return user;
}

/** Whether the item is of the first release's shape: authenticators but no version. */
export const isLegacy = (user: UserRecord) =>
  user.authenticators.length > 0 && user.authenticatorsVersion === undefined;

function verifyMemoriesOf(item: Item): Map<string, VerifyMemory> {
  const memories = new Map<string, VerifyMemory>();
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith(ATTR.verifyMemoryPrefix) || !value.M) continue;
    const { fingerprint, answer, at } = value.M;
    if (!fingerprint?.B || !answer?.B) continue;
    memories.set(name.slice(ATTR.verifyMemoryPrefix.length), {
      fingerprint: fingerprint.B,
      sealedAnswer: answer.B,
      at: num(at) ?? 0,
    });
  }
  return memories;
}

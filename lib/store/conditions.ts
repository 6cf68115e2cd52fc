import type { AttributeValue, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { DISABLE_AFTER } from '../domain/lockout.ts';
import type { UserRecord } from '../domain/user.ts';
import { N } from './items.ts';
import type { Admission, KeptVerify } from './port.ts';
import { REMEMBER_MS } from '../domain/idempotency.ts';
import { ATTR, isLegacy } from './userItem.ts';

type Item = Record<string, AttributeValue>;

/**
 * The conditions of every conditional write, named for the rule each enforces and
 * joined with AND: the guess budget of lib/domain/lockout.ts, replay, and the states
 * a write admits, on one screen.
 */
export const itemExists = 'attribute_exists(pk)';
export const pendingIs = 'pending.id = :pendingId';
export const stepIsNew = `(attribute_not_exists(${ATTR.stepStart}) OR ${ATTR.stepStart} < :stepStart)`;
/** No step accepted after the one this write records (it writes the latest). */
export const stepNotAfter = `(attribute_not_exists(${ATTR.stepStart}) OR ${ATTR.stepStart} <= :stepStart)`;
export const codeUnspent = 'contains(recovery, :hash)';
export const failureIsNew = '(attribute_not_exists(lastFailureToken) OR lastFailureToken <> :token)';
export const hasAuthenticators = `(attribute_exists(${ATTR.authenticators}) OR attribute_exists(${ATTR.legacyActive}))`;
const noAuthenticators = `attribute_not_exists(${ATTR.authenticators}) AND attribute_not_exists(${ATTR.legacyActive})`;
// The guess budget of lib/domain/lockout.ts, over the same counts: locked means
// maxFailures failures counted, the last of them after the lock cutoff (now - lockSeconds).
// The item's failedAttempts is the count toward the lock (lockFailures in the code).
export const belowLimit = '(attribute_not_exists(failedAttempts) OR failedAttempts < :maxFailures)';
export const lockExpired = '(attribute_not_exists(failedAt) OR failedAt <= :lockCutoff)';
export const notLocked = `(${belowLimit} OR ${lockExpired})`;
export const atLimit = 'failedAttempts >= :maxFailures';
export const notDisabled =
  '(attribute_not_exists(consecutiveFailures) OR consecutiveFailures < :disableAfter)';

/** The values of the budget's conditions, as of the request's clock and the tenant's settings. */
export const budgetValues = ({ nowMs, lockout }: Admission, bindsDisable: boolean): Item => ({
  ':maxFailures': N(lockout.maxFailures),
  ':lockCutoff': N(nowMs - lockout.lockSeconds * 1000),
  ...(bindsDisable ? { ':disableAfter': N(DISABLE_AFTER) } : {}),
});

/** A valid code resets both failure counts (it is admitted only while no lock is in force). */
export const resetFailures = ['failedAttempts = :zero', 'consecutiveFailures = :zero'];

/** An update in parts, so that writes can share conditions and clauses (the legacy upgrade). */
export interface UpdateParts {
  set?: string[];
  remove?: string[];
  add?: string[];
  delete?: string[];
  conditions?: string[];
  values?: Item;
  names?: Record<string, string>;
}

export function composeUpdate(parts: UpdateParts): Omit<UpdateItemCommandInput, 'TableName' | 'Key'> {
  // Parts may name one attribute twice (two parts removing the TTL): DynamoDB refuses that.
  const clause = (word: string, list: string[] | undefined) =>
    list && list.length > 0 ? [`${word} ${[...new Set(list)].join(', ')}`] : [];
  const values = parts.values ?? {};
  return {
    UpdateExpression: [
      ...clause('SET', parts.set),
      ...clause('REMOVE', parts.remove),
      ...clause('ADD', parts.add),
      ...clause('DELETE', parts.delete),
    ].join(' '),
    ...(parts.conditions && parts.conditions.length > 0
      ? { ConditionExpression: parts.conditions.join(' AND ') }
      : {}),
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    ...(parts.names && Object.keys(parts.names).length > 0 ? { ExpressionAttributeNames: parts.names } : {}),
  };
}

/** Joins parts: lists concatenated, values and names merged. */
export function joinParts(...all: UpdateParts[]): UpdateParts {
  const list = (key: 'set' | 'remove' | 'add' | 'delete' | 'conditions') => all.flatMap((p) => p[key] ?? []);
  return {
    set: list('set'),
    remove: list('remove'),
    add: list('add'),
    delete: list('delete'),
    conditions: list('conditions'),
    values: Object.assign({}, ...all.map((p) => p.values ?? {})),
    names: Object.assign({}, ...all.map((p) => p.names ?? {})),
  };
}

/**
 * The user's authenticators are still the set `user` was read with: a write that
 * judged them (the cap, a replaced id, a label) holds only then. An item of the
 * first release's shape is identified by its one authenticator's id.
 */
export function authenticatorsAre(user: UserRecord): UpdateParts {
  if (user.authenticatorsVersion !== undefined) {
    return {
      conditions: [`${ATTR.version} = :readVersion`],
      values: { ':readVersion': { S: user.authenticatorsVersion } },
    };
  }
  const legacy = user.authenticators[0];
  if (legacy === undefined) return { conditions: [noAuthenticators] };
  return { conditions: [`${ATTR.legacyActive}.id = :legacyId`], values: { ':legacyId': { S: legacy.id } } };
}

/**
 * What a write that changes the authenticators of a first-release item adds: the old
 * attributes go, and its used step (a step number of its authenticator's period)
 * becomes the start of that step, under the condition that it is still the one read.
 * `setsStep`: the write records a newer step itself.
 */
export function legacyUpgrade(user: UserRecord, setsStep: boolean): UpdateParts {
  if (!isLegacy(user)) return {};
  const period = user.authenticators[0]?.period ?? 30;
  const step = user.lastStepStart === undefined ? undefined : user.lastStepStart / period;
  const stepRead =
    step === undefined
      ? { conditions: [`attribute_not_exists(${ATTR.legacyStep})`] }
      : { conditions: [`${ATTR.legacyStep} = :legacyStep`], values: { ':legacyStep': N(step) } };
  const carry =
    setsStep || user.lastStepStart === undefined
      ? {}
      : {
          set: [`${ATTR.stepStart} = :legacyStepStart`],
          values: { ':legacyStepStart': N(user.lastStepStart) },
        };
  return joinParts({ remove: [ATTR.legacyActive, ATTR.legacyStep] }, stepRead, carry);
}

/**
 * What every accepted code writes (a time step at verify, a recovery code): the
 * failure counts reset and the clock-skew hint gone, admitted only within the budget.
 */
export const acceptedCode = (token: string, admission: Admission, stamp: string): UpdateParts =>
  joinParts(
    {
      set: [`${stamp} = :token`, 'lastVerifiedAt = :now', ...resetFailures],
      remove: ['clockSkew'],
      conditions: [notLocked, notDisabled],
      values: {
        ':token': { S: token },
        ':now': N(admission.nowMs),
        ':zero': N(0),
        ...budgetValues(admission, true),
      },
    },
    keptVerify(admission.remember),
  );

/**
 * A verify's answer, kept in the write that checks its code (KeptVerify): only while
 * no live answer holds the slot, so that of two attempts under one key the store
 * lets one count; the other re-reads and replays it. Older slots go in the same write.
 */
export function keptVerify(kept: KeptVerify | undefined): UpdateParts {
  if (kept === undefined) return {};
  const drops = Object.fromEntries(
    kept.drop.map((slot, i) => [`#dropSlot${i}`, `${ATTR.verifyMemoryPrefix}${slot}`]),
  );
  return {
    set: ['#keptSlot = :kept'],
    remove: Object.keys(drops),
    conditions: ['(attribute_not_exists(#keptSlot) OR #keptSlot.#at <= :keptExpired)'],
    values: {
      ':kept': {
        M: {
          fingerprint: { B: kept.memory.fingerprint },
          answer: { B: kept.memory.sealedAnswer },
          at: N(kept.memory.at),
        },
      },
      ':keptExpired': N(kept.memory.at - REMEMBER_MS),
    },
    names: { '#keptSlot': `${ATTR.verifyMemoryPrefix}${kept.slot}`, '#at': 'at', ...drops },
  };
}

/**
 * The verify's write: replay protection, the guess budget and the failure reset in
 * one conditional update, so of N racing requests for one step the store lets
 * exactly one through, and none once the budget is spent. The authenticator that
 * matched must still be there; its `lastUsedAt` is set in place.
 * Exported so the benchmark's storage floor issues exactly this update.
 */
export const acceptStepParts = (
  authenticatorId: string,
  stepStart: number,
  token: string,
  admission: Admission,
): UpdateParts =>
  joinParts(acceptedCode(token, admission, 'lastStepToken'), {
    set: [`${ATTR.stepStart} = :stepStart`, `${ATTR.authenticators}.#matched.lastUsedAt = :now`],
    conditions: [`attribute_exists(${ATTR.authenticators}.#matched)`, stepIsNew],
    values: { ':stepStart': N(stepStart) },
    names: { '#matched': authenticatorId },
  });

export const acceptStepUpdate = (
  authenticatorId: string,
  stepStart: number,
  token: string,
  admission: Admission,
) => composeUpdate(acceptStepParts(authenticatorId, stepStart, token, admission));

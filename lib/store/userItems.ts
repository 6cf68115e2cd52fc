import { randomBytes } from 'node:crypto';
import { type AttributeValue, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { FailurePlan } from '../domain/lockout.ts';
import type { Authenticator, ClockSkew, PendingEnrolment, UserRecord } from '../domain/user.ts';
import type { SecurityEvent } from '../domain/webhooks.ts';
import { N } from './items.ts';
import { userOutbox } from './outboxItems.ts';
import type { Admission, FailureWrite, UserPage, WriteResult, UserStore } from './port.ts';
import { ENROLMENT_INDEX, enrolmentGroup, LIST_INDEX, TTL_ATTRIBUTE, userKey } from './table.ts';
import { enrolledParts, listed } from './registration.ts';
import { enrollingCounts } from '../domain/enrolment.ts';
import {
  acceptedCode,
  acceptStepUpdate,
  authenticatorsAre,
  atLimit,
  belowLimit,
  budgetValues,
  codeUnspent,
  composeUpdate,
  failureIsNew,
  hasAuthenticators,
  itemExists,
  joinParts,
  keptVerify,
  legacyUpgrade,
  lockExpired,
  notDisabled,
  notLocked,
  pendingIs,
  resetFailures,
  stepNotAfter,
  type UpdateParts,
} from './conditions.ts';
import type { DynamoTable } from './dynamoTable.ts';
import { ATTR, authenticatorsToMap, isLegacy, pendingToMap, userFromItem } from './userItem.ts';

/** Where each report is marked on the user's item (UserRecord's lockReportedAt, ...). */
const REPORT_MARKS = {
  lock: 'lockReportedAt',
  disable: 'disableReportedAt',
  replay: 'replayedStep',
} as const;

/**
 * The authenticators become `next`, under the condition that they are still as `user`
 * was read and no code was accepted since; a new version marks the change. A first-release item is rewritten to
 * today's shape by this write (userItem.ts).
 */
export function setAuthenticators(user: UserRecord, next: Authenticator[], setsStep: boolean): UpdateParts {
  return joinParts(
    {
      set: [`${ATTR.authenticators} = :authenticators`, `${ATTR.version} = :version`],
      values: {
        ':authenticators': authenticatorsToMap(next),
        ':version': { S: randomBytes(8).toString('hex') },
      },
    },
    authenticatorsAre(user),
    // No code accepted since the read: the map written keeps every `lastUsedAt`.
    user.lastStepToken === undefined
      ? { conditions: ['attribute_not_exists(lastStepToken)'] }
      : {
          conditions: ['lastStepToken = :readStepToken'],
          values: { ':readStepToken': { S: user.lastStepToken } },
        },
    legacyUpgrade(user, setsStep),
  );
}

/** A user's whole 2FA state, one item: every change is one conditional write (conditions.ts). */
export const userItems = (t: DynamoTable): Omit<UserStore, 'getUsers' | 'importAuthenticator'> => ({
  async getUser(tenantId: string, userId: string): Promise<UserRecord | undefined> {
    const out = await t.send(
      t.call(
        new GetItemCommand({ TableName: t.table, Key: userKey(tenantId, userId), ConsistentRead: true }),
      ),
    );
    return userFromItem(out.Item);
  },

  async savePending(
    user: UserRecord,
    pending: PendingEnrolment,
    expiresAtSeconds: number | null,
  ): Promise<WriteResult> {
    // The TTL is set only while the item holds no authenticator (the condition says
    // so): deleting the item then loses nothing but an abandoned setup.
    // Nor while it is registered, or counted: the counts would lose it.
    const expires =
      expiresAtSeconds !== null && user.registration === undefined && user.counting === undefined;
    const ttl: UpdateParts = expires
      ? {
          set: [`${TTL_ATTRIBUTE} = :ttl`],
          conditions: [
            `attribute_not_exists(${ATTR.registeredAt})`,
            `attribute_not_exists(${ATTR.counted})`,
            `attribute_not_exists(${ATTR.dirtyToken})`,
          ],
          values: { ':ttl': N(expiresAtSeconds) },
        }
      : { remove: [TTL_ATTRIBUTE] };
    return t.updateUser(
      user,
      composeUpdate(
        joinParts(
          { set: ['pending = :pending'], values: { ':pending': pendingToMap(pending) }, conditions: [] },
          listed(user),
          ttl,
          authenticatorsAre(user),
        ),
      ),
    );
  },

  async activate(
    user: UserRecord,
    next: Authenticator[],
    recoveryHashes: Uint8Array[] | undefined,
    stepStart: number,
    token: string,
    admission: Admission & { bindsDisable: boolean },
    events: readonly SecurityEvent[] = [],
  ): Promise<WriteResult> {
    // Admitted by the timed lock (and, for an add or a replace, the disable): a new
    // authenticator for all is the way out of a disable, never out of a lock.
    // The pending enrolment is still the one read: the one being activated.
    const pendingId = user.pending?.id ?? '';
    const recovery: UpdateParts =
      recoveryHashes === undefined
        ? {}
        : {
            set: ['recovery = :recovery'],
            remove: ['lastRecoveryHash'],
            values: { ':recovery': { BS: recoveryHashes } },
          };
    return t.updateUser(
      user,
      composeUpdate(
        joinParts(
          setAuthenticators(user, next, true),
          recovery,
          userOutbox(user, events),
          enrollingCounts(user) ? enrolledParts(user, admission.nowMs) : listed(user),
          {
            set: [`${ATTR.stepStart} = :stepStart`, 'lastStepToken = :token', ...resetFailures],
            remove: ['pending', TTL_ATTRIBUTE, 'clockSkew'],
            conditions: [
              pendingIs,
              // A first-release item holds a step number: legacyUpgrade checks it instead.
              ...(isLegacy(user) ? [] : [stepNotAfter]),
              notLocked,
              ...(admission.bindsDisable ? [notDisabled] : []),
            ],
            values: {
              ':pendingId': { S: pendingId },
              ':stepStart': N(stepStart),
              ':token': { S: token },
              ':zero': N(0),
              ...budgetValues(admission, admission.bindsDisable),
            },
          },
        ),
      ),
    );
  },

  async acceptStep(
    user: UserRecord,
    authenticator: Authenticator,
    stepStart: number,
    token: string,
    admission: Admission,
  ): Promise<WriteResult> {
    if (!isLegacy(user)) {
      return t.updateUser(user, acceptStepUpdate(authenticator.id, stepStart, token, admission));
    }
    // The write that happens anyway rewrites a first-release item: the whole map, since
    // a path inside it cannot be set in the same write that creates it. Its used step
    // is a step number of its one authenticator's period.
    const used = { ...authenticator, lastUsedAt: admission.nowMs };
    return t.updateUser(
      user,
      composeUpdate(
        joinParts(setAuthenticators(user, [used], true), acceptedCode(token, admission, 'lastStepToken'), {
          set: [`${ATTR.stepStart} = :stepStart`],
          conditions: [`(attribute_not_exists(${ATTR.legacyStep}) OR ${ATTR.legacyStep} < :newLegacyStep)`],
          values: { ':stepStart': N(stepStart), ':newLegacyStep': N(stepStart / authenticator.period) },
        }),
      ),
    );
  },

  async spendRecoveryCode(
    user: UserRecord,
    hash: Uint8Array,
    token: string,
    admission: Admission,
    events: readonly SecurityEvent[] = [],
  ): Promise<WriteResult> {
    return t.updateUser(
      user,
      composeUpdate(
        joinParts(acceptedCode(token, admission, 'lastRecoveryToken'), userOutbox(user, events), {
          set: ['lastRecoveryHash = :hash'],
          delete: ['recovery :spent'],
          conditions: [codeUnspent],
          values: { ':spent': { BS: [hash] }, ':hash': { B: hash } },
        }),
      ),
    );
  },

  async recordFailure(
    user: UserRecord,
    plan: FailurePlan,
    token: string,
    admission: Admission,
    clockSkew?: ClockSkew,
  ): Promise<FailureWrite> {
    // `count`: one ADD that counts and, at the limit, locks. `restart`: the lock has
    // expired, so the count starts again, conditioned on that expiry.
    // An ADD is not idempotent: the token keeps an SDK retry of a committed write
    // from counting the same failure twice.
    // DynamoDB refuses a value that no expression uses: a count needs no cutoff.
    const { ':lockCutoff': cutoff, ...limits } = budgetValues(admission, plan.bindsDisable);
    const budget = plan.kind === 'count' ? limits : { ...limits, ':lockCutoff': cutoff as AttributeValue };
    const skew: UpdateParts =
      clockSkew === undefined
        ? {}
        : {
            set: ['clockSkew = :skew'],
            values: { ':skew': { M: { steps: N(clockSkew.steps), at: N(clockSkew.at) } } },
          };
    const result = await t.updateUser(user, {
      ReturnValues: 'UPDATED_NEW',
      ...composeUpdate(
        joinParts(skew, keptVerify(admission.remember), {
          set: [
            'failedAt = :now',
            'lastFailureToken = :token',
            ...(plan.kind === 'count' ? [] : ['failedAttempts = :weight']),
          ],
          add: [...(plan.kind === 'count' ? ['failedAttempts :weight'] : []), 'consecutiveFailures :weight'],
          conditions: [
            itemExists,
            failureIsNew,
            ...(plan.kind === 'count' ? [belowLimit] : [atLimit, lockExpired]),
            ...(plan.bindsDisable ? [notDisabled] : []),
          ],
          values: {
            ':weight': N(plan.weight),
            ':token': { S: token },
            ':now': N(admission.nowMs),
            ...budget,
          },
        }),
      ),
    });
    if (!result.applied) return result;
    const after = result.attributes ?? {};
    return {
      applied: true,
      counts: {
        lockFailures: Number(after.failedAttempts?.N ?? 0),
        consecutiveFailures: Number(after.consecutiveFailures?.N ?? 0),
        lastFailureAt: admission.nowMs,
      },
    };
  },

  async replaceRecoveryCodes(
    user: UserRecord,
    hashes: Uint8Array[],
    events: readonly SecurityEvent[] = [],
  ): Promise<WriteResult> {
    return t.updateUser(
      user,
      composeUpdate(
        joinParts(userOutbox(user, events), {
          set: ['recovery = :recovery'],
          conditions: [hasAuthenticators],
          values: { ':recovery': { BS: hashes } },
        }),
      ),
    );
  },

  async replaceAuthenticators(
    user: UserRecord,
    next: Authenticator[],
    events: readonly SecurityEvent[] = [],
  ): Promise<WriteResult> {
    return t.updateUser(
      user,
      composeUpdate(joinParts(setAuthenticators(user, next, false), userOutbox(user, events))),
    );
  },

  async reportOnce(
    user: UserRecord,
    mark: 'lock' | 'disable' | 'replay',
    value: number,
    events: readonly SecurityEvent[],
  ): Promise<boolean> {
    const attribute = REPORT_MARKS[mark];
    const result = await t.updateUser(
      user,
      composeUpdate(
        joinParts(userOutbox(user, events), {
          set: [`${attribute} = :reported`],
          conditions: [itemExists, `(attribute_not_exists(${attribute}) OR ${attribute} < :reported)`],
          values: { ':reported': N(value) },
        }),
      ),
    );
    return result.applied;
  },

  async unlock(user: UserRecord, events: readonly SecurityEvent[] = []): Promise<boolean> {
    const result = await t.updateUser(
      user,
      composeUpdate(
        joinParts(
          { set: ['failedAttempts = :zero'], conditions: [itemExists], values: { ':zero': N(0) } },
          userOutbox(user, events),
        ),
      ),
    );
    return result.applied;
  },

  async listUsers(
    tenantId: string,
    afterUserId: string | undefined,
    limit: number,
    group?: 'unenrolled' | 'exempt',
  ): Promise<UserPage> {
    // The whole list, or a group of the enrolment index: both hold user ids in order.
    const [index, hash, range, partition] =
      group === undefined
        ? [LIST_INDEX, 'listTenant', 'listUser', tenantId]
        : [ENROLMENT_INDEX, 'enrolGroup', 'enrolUser', enrolmentGroup(tenantId, group)];
    const out = await t.send(
      t.call(
        new QueryCommand({
          TableName: t.table,
          IndexName: index,
          KeyConditionExpression: `${hash} = :partition`,
          ExpressionAttributeValues: { ':partition': { S: partition } },
          Limit: limit,
          ExclusiveStartKey:
            afterUserId === undefined
              ? undefined
              : {
                  [hash]: { S: partition },
                  [range]: { S: afterUserId },
                  ...userKey(tenantId, afterUserId),
                },
        }),
      ),
    );
    const keys = (out.Items ?? []).map((item) => ({
      pk: item.pk as AttributeValue,
      sk: item.sk as AttributeValue,
    }));
    const items = keys.length === 0 ? [] : ((await t.batchGet(keys)).get(t.table) ?? []);
    const users = items
      .map((item) => userFromItem(item))
      .filter((user): user is UserRecord => user !== undefined)
      .sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
    const lastUserId = out.Items?.at(-1)?.[range]?.S;
    return { users, lastUserId, more: out.LastEvaluatedKey !== undefined };
  },
});

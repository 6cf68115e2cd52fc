import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { type FailurePlan } from '../domain/lockout.ts';
import { type ActiveEnrolment, type PendingEnrolment, type UserRecord } from '../domain/user.ts';
import { enrolmentToMap, N, userFromItem } from './items.ts';
import type { Admission, FailureWrite, UserPage, WriteResult, UserStore } from './port.ts';
import { LIST_INDEX, TTL_ATTRIBUTE, userKey } from './table.ts';
import {
  itemExists,
  activeIs,
  noActive,
  pendingIs,
  codeUnspent,
  failureIsNew,
  belowLimit,
  lockExpired,
  notLocked,
  atLimit,
  notDisabled,
  all,
  budgetValues,
  resetFailures,
  acceptStepUpdate,
} from './conditions.ts';
import type { DynamoTable } from './dynamoTable.ts';

/** A user's whole 2FA state, one item: every change is one conditional write (conditions.ts). */
export const userItems = (t: DynamoTable): Omit<UserStore, 'getUsers' | 'importActive'> => ({
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
    expectActiveId: string | null,
    expiresAtSeconds: number | null,
  ): Promise<WriteResult> {
    // The TTL is set only while the item holds no active enrolment: deleting the
    // item then loses nothing but an abandoned setup.
    const ttl = expiresAtSeconds === null ? ` REMOVE ${TTL_ATTRIBUTE}` : `, ${TTL_ATTRIBUTE} = :ttl`;
    return t.updateUser(user, {
      UpdateExpression: `SET pending = :pending, listTenant = :tenant, listUser = :user${ttl}`,
      ConditionExpression: expectActiveId === null ? noActive : activeIs,
      ExpressionAttributeValues: {
        ':pending': enrolmentToMap(pending),
        ':tenant': { S: user.tenantId },
        ':user': { S: user.userId },
        ...(expectActiveId === null ? {} : { ':activeId': { S: expectActiveId } }),
        ...(expiresAtSeconds === null ? {} : { ':ttl': N(expiresAtSeconds) }),
      },
    });
  },

  async activate(
    user: UserRecord,
    active: ActiveEnrolment,
    recoveryHashes: Uint8Array[],
    step: number,
    token: string,
    admission: Admission,
  ): Promise<WriteResult> {
    // Admitted by the timed lock alone: a new authenticator is the way out of a
    // disable, never out of a lock.
    return t.updateUser(user, {
      UpdateExpression: [
        'SET active = :active, recovery = :recovery, lastStep = :step, lastStepToken = :token,',
        `${resetFailures}, listTenant = :tenant, listUser = :user`,
        `REMOVE pending, lastRecoveryHash, ${TTL_ATTRIBUTE}`,
      ].join(' '),
      ConditionExpression: all(pendingIs, notLocked),
      ExpressionAttributeValues: {
        ':active': enrolmentToMap(active),
        ':recovery': { BS: recoveryHashes },
        ':step': N(step),
        ':token': { S: token },
        ':zero': N(0),
        ':tenant': { S: user.tenantId },
        ':user': { S: user.userId },
        ':pendingId': { S: active.id },
        ...budgetValues(admission, false),
      },
    });
  },

  async acceptStep(
    user: UserRecord,
    activeId: string,
    step: number,
    token: string,
    admission: Admission,
  ): Promise<WriteResult> {
    return t.updateUser(user, acceptStepUpdate(activeId, step, token, admission));
  },

  async spendRecoveryCode(
    user: UserRecord,
    activeId: string,
    hash: Uint8Array,
    token: string,
    admission: Admission,
  ): Promise<WriteResult> {
    return t.updateUser(user, {
      UpdateExpression: [
        'SET lastVerifiedAt = :now, lastRecoveryToken = :token, lastRecoveryHash = :hash,',
        `${resetFailures} DELETE recovery :spent`,
      ].join(' '),
      ConditionExpression: all(activeIs, codeUnspent, notLocked, notDisabled),
      ExpressionAttributeValues: {
        ':spent': { BS: [hash] },
        ':token': { S: token },
        ':hash': { B: hash },
        ':now': N(admission.nowMs),
        ':zero': N(0),
        ':activeId': { S: activeId },
        ...budgetValues(admission, true),
      },
    });
  },

  async recordFailure(
    user: UserRecord,
    plan: FailurePlan,
    token: string,
    admission: Admission,
  ): Promise<FailureWrite> {
    // `count`: one ADD that counts and, at the limit, locks. `restart`: the lock has
    // expired, so the count starts again at 1, conditioned on that expiry.
    // An ADD is not idempotent: the token keeps an SDK retry of a committed write
    // from counting the same failure twice.
    const stamp = 'SET failedAt = :now, lastFailureToken = :token';
    // DynamoDB refuses a value that no expression uses: a count needs no cutoff.
    const { ':lockCutoff': cutoff, ...limits } = budgetValues(admission, plan.bindsDisable);
    const budget = plan.kind === 'count' ? limits : { ...limits, ':lockCutoff': cutoff as AttributeValue };
    const result = await t.updateUser(user, {
      UpdateExpression:
        plan.kind === 'count'
          ? `${stamp} ADD failedAttempts :one, consecutiveFailures :one`
          : `${stamp}, failedAttempts = :one ADD consecutiveFailures :one`,
      ConditionExpression: all(
        itemExists,
        failureIsNew,
        ...(plan.kind === 'count' ? [belowLimit] : [atLimit, lockExpired]),
        ...(plan.bindsDisable ? [notDisabled] : []),
      ),
      ExpressionAttributeValues: {
        ':one': N(1),
        ':token': { S: token },
        ':now': N(admission.nowMs),
        ...budget,
      },
      ReturnValues: 'UPDATED_NEW',
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

  async replaceRecoveryCodes(user: UserRecord, activeId: string, hashes: Uint8Array[]): Promise<WriteResult> {
    return t.updateUser(user, {
      UpdateExpression: 'SET recovery = :recovery',
      ConditionExpression: activeIs,
      ExpressionAttributeValues: { ':recovery': { BS: hashes }, ':activeId': { S: activeId } },
    });
  },

  async unlock(user: UserRecord): Promise<boolean> {
    const result = await t.updateUser(user, {
      UpdateExpression: 'SET failedAttempts = :zero',
      ConditionExpression: itemExists,
      ExpressionAttributeValues: { ':zero': N(0) },
    });
    return result.applied;
  },

  async removeUser(tenantId: string, userId: string): Promise<UserRecord | undefined> {
    const out = await t.send(
      t.call(
        new DeleteItemCommand({
          TableName: t.table,
          Key: userKey(tenantId, userId),
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    return userFromItem(out.Attributes);
  },

  async listUsers(tenantId: string, afterUserId: string | undefined, limit: number): Promise<UserPage> {
    const out = await t.send(
      t.call(
        new QueryCommand({
          TableName: t.table,
          IndexName: LIST_INDEX,
          KeyConditionExpression: 'listTenant = :tenant',
          ExpressionAttributeValues: { ':tenant': { S: tenantId } },
          Limit: limit,
          ExclusiveStartKey:
            afterUserId === undefined
              ? undefined
              : {
                  listTenant: { S: tenantId },
                  listUser: { S: afterUserId },
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
    const lastUserId = out.Items?.at(-1)?.listUser?.S;
    return { users, lastUserId, more: out.LastEvaluatedKey !== undefined };
  },
});

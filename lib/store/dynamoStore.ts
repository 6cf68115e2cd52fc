import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  ResourceNotFoundException,
  UpdateItemCommand,
  type UpdateItemCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { DISABLE_AFTER, type FailurePlan } from '../domain/lockout.ts';
import { type ActiveEnrolment, emptyUser, type PendingEnrolment, type UserRecord } from '../domain/user.ts';
import { ApiError, outOfTime, serviceUnavailable } from '../errors.ts';
import {
  auditFromItem,
  auditKey,
  auditToItem,
  apiKeyFromItem,
  apiKeyToItem,
  enrolmentToMap,
  N,
  tenantFromItem,
  tenantToItem,
  userFromItem,
} from './items.ts';
import type { AuditEvent } from '../domain/audit.ts';
import type {
  Admission,
  AuditPosition,
  FailureWrite,
  CallerRecords,
  Store,
  UserPage,
  WriteResult,
} from './port.ts';
import type { ApiKeyRecord, TenantRecord } from '../domain/records.ts';
import {
  apiKeyKey,
  AUDIT_INDEX,
  auditIndexPartitions,
  auditPartition,
  LIST_INDEX,
  TENANT_DIRECTORY,
  TENANT_INDEX,
  TTL_ATTRIBUTE,
  tenantKey,
  userKey,
} from './table.ts';

type Item = Record<string, AttributeValue>;

/** Errors of a request the store will refuse however often it is sent. */
const REFUSED_AS_MALFORMED = new Set(['ValidationException', 'SerializationException']);

/** DynamoDB's limit on the keys of one BatchGetItem call. */
const BATCH_GET_LIMIT = 100;

// Conditions, named for the rule each enforces and joined with AND.
const itemExists = 'attribute_exists(pk)';
const activeIs = 'active.id = :activeId';
const noActive = 'attribute_not_exists(active)';
const pendingIs = 'pending.id = :pendingId';
const stepIsNew = '(attribute_not_exists(lastStep) OR lastStep < :step)';
const codeUnspent = 'contains(recovery, :hash)';
const failureIsNew = '(attribute_not_exists(lastFailureToken) OR lastFailureToken <> :token)';
// The guess budget of lib/domain/lockout.ts, over the same counts: locked means
// maxFailures failures counted, the last of them after the lock cutoff (now - lockSeconds).
const belowLimit = '(attribute_not_exists(failedAttempts) OR failedAttempts < :maxFailures)';
const lockExpired = '(attribute_not_exists(failedAt) OR failedAt <= :lockCutoff)';
const notLocked = `(${belowLimit} OR ${lockExpired})`;
const atLimit = 'failedAttempts >= :maxFailures';
const notDisabled = '(attribute_not_exists(consecutiveFailures) OR consecutiveFailures < :disableAfter)';
const all = (...parts: string[]) => parts.join(' AND ');

/** The values of the budget's conditions, as of the request's clock and the tenant's settings. */
const budgetValues = ({ nowMs, lockout }: Admission, bindsDisable: boolean): Item => ({
  ':maxFailures': N(lockout.maxFailures),
  ':lockCutoff': N(nowMs - lockout.lockSeconds * 1000),
  ...(bindsDisable ? { ':disableAfter': N(DISABLE_AFTER) } : {}),
});

/** A valid code resets both failure counts (it is admitted only while no lock is in force). */
const resetFailures = 'failedAttempts = :zero, consecutiveFailures = :zero';

/**
 * The verify's write: replay protection, the guess budget and the failure reset in
 * one conditional update, so of N racing requests for one step the store lets
 * exactly one through, and none once the budget is spent.
 * Exported so the benchmark's storage floor issues exactly this update.
 */
export const acceptStepUpdate = (activeId: string, step: number, token: string, admission: Admission) => ({
  UpdateExpression: `SET lastStep = :step, lastStepToken = :token, lastVerifiedAt = :now, ${resetFailures}`,
  ConditionExpression: all(activeIs, stepIsNew, notLocked, notDisabled),
  ExpressionAttributeValues: {
    ':step': N(step),
    ':token': { S: token },
    ':now': N(admission.nowMs),
    ':zero': N(0),
    ':activeId': { S: activeId },
    ...budgetValues(admission, true),
  },
});

export class DynamoStore implements Store {
  /**
   * `keysTable` holds the tenants' wrapped data keys, and nothing else: a table with no
   * point-in-time recovery and no backup, so that deleting a tenant's key there is
   * crypto-shredding: no restored backup of `table` holds a key that opens its secrets.
   */
  /** `db.send`, with the request's signal (see `within`). */
  private readonly call: DynamoDBClient['send'];

  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
    private readonly keysTable: string,
    private readonly signal?: AbortSignal,
  ) {
    this.call = ((command: Parameters<DynamoDBClient['send']>[0]) =>
      this.callWithin(command)) as DynamoDBClient['send'];
  }

  within(signal: AbortSignal): DynamoStore {
    return new DynamoStore(this.db, this.table, this.keysTable, signal);
  }

  /**
   * One AWS call, bounded by the request's deadline: none starts once the signal has
   * aborted, and one in flight is cancelled. Either way the request answers 503, and
   * the log names the call that was waiting and for how long.
   */
  private async callWithin(command: Parameters<DynamoDBClient['send']>[0]) {
    const signal = this.signal;
    const name = command.constructor.name.replace(/Command$/, '');
    const cutShort = (waitedMs: number) =>
      outOfTime(
        new Error(
          `${name} cut short after ${Math.round(waitedMs)} ms: ${(signal?.reason as Error | undefined)?.message ?? 'time is up'}`,
        ),
      );
    if (signal?.aborted) throw cutShort(0);
    const started = performance.now();
    try {
      return await this.db.send(command, signal ? { abortSignal: signal } : {});
    } catch (error) {
      if (signal?.aborted) throw cutShort(performance.now() - started);
      throw error;
    }
  }

  async checkReady(): Promise<void> {
    let indexes: string[];
    try {
      const out = await this.db.send(new DescribeTableCommand({ TableName: this.table }));
      indexes = (out.Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName ?? '');
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        throw new Error(`there is no table ${this.table} for these credentials and region`, { cause: error });
      }
      throw new Error(
        `the table ${this.table} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    const missing = [LIST_INDEX, AUDIT_INDEX, TENANT_INDEX].filter((name) => !indexes.includes(name));
    if (missing.length > 0) {
      throw new Error(
        `the table ${this.table} lacks the index ${missing.join(', ')} (made by an older version?)`,
      );
    }
  }

  async loadContext(ids: { tenantId: string; keyId?: string; userId?: string }): Promise<CallerRecords> {
    const keys: Item[] = [tenantKey(ids.tenantId)];
    if (ids.keyId !== undefined) keys.push(apiKeyKey(ids.tenantId, ids.keyId));
    if (ids.userId !== undefined) keys.push(userKey(ids.tenantId, ids.userId));
    // The tenant's data key comes in the same round trip, from its own table.
    const dataKey = { pk: tenantKey(ids.tenantId).pk };
    const found = await this.batchGet(keys, { table: this.keysTable, keys: [dataKey] });
    const items = found.get(this.table) ?? [];
    const find = (key: Item) => items.find((item) => item.pk?.S === key.pk?.S && item.sk?.S === key.sk?.S);
    const context: CallerRecords = {};
    const tenantItem = find(tenantKey(ids.tenantId));
    const tenant = tenantFromItem(tenantItem);
    // A tenant made before the key table kept its data key in its own item: still read.
    const wrapped = found.get(this.keysTable)?.[0]?.dataKey?.B ?? tenantItem?.dataKey?.B;
    if (tenant) context.tenant = { ...tenant, wrappedDataKey: wrapped ?? new Uint8Array() };
    const key =
      ids.keyId === undefined ? undefined : apiKeyFromItem(find(apiKeyKey(ids.tenantId, ids.keyId)));
    if (key) context.key = key;
    const user = ids.userId === undefined ? undefined : userFromItem(find(userKey(ids.tenantId, ids.userId)));
    if (user) context.user = user;
    return context;
  }

  /**
   * Consistent BatchGetItem of `keys` in `table` (and of `also`, in its own table, in
   * the same call), in chunks of the 100 keys one call may ask for; keys the store
   * left unprocessed (throttling) are asked again, with backoff.
   */
  private async batchGet(keys: Item[], also?: { table: string; keys: Item[] }): Promise<Map<string, Item[]>> {
    const found = new Map<string, Item[]>([[this.table, []]]);
    const wanted: [string, Item][] = [
      ...keys.map((key): [string, Item] => [this.table, key]),
      ...(also?.keys ?? []).map((key): [string, Item] => [also?.table ?? '', key]),
    ];
    for (let offset = 0; offset < wanted.length; offset += BATCH_GET_LIMIT) {
      let pending = wanted.slice(offset, offset + BATCH_GET_LIMIT);
      for (let round = 0; pending.length > 0; round++) {
        if (round === 4) throw serviceUnavailable('the database');
        const request: Record<string, { Keys: Item[]; ConsistentRead: true }> = {};
        for (const [table, key] of pending)
          (request[table] ??= { Keys: [], ConsistentRead: true }).Keys.push(key);
        const out = await this.send(this.call(new BatchGetItemCommand({ RequestItems: request })));
        for (const [table, items] of Object.entries(out.Responses ?? {})) {
          found.set(table, [...(found.get(table) ?? []), ...items]);
        }
        pending = Object.entries(out.UnprocessedKeys ?? {}).flatMap(([table, unprocessed]) =>
          (unprocessed.Keys ?? []).map((key): [string, Item] => [table, key]),
        );
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));
      }
    }
    return found;
  }

  async putDataKey(tenantId: string, wrapped: Uint8Array): Promise<Uint8Array> {
    // Never over another: a leftover of a creation that failed half-way is adopted
    // (nothing was ever sealed under it), and a live tenant's key is never replaced.
    const put = await this.conditional(
      new PutItemCommand({
        TableName: this.keysTable,
        Item: { pk: tenantKey(tenantId).pk, dataKey: { B: wrapped } },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    if (put) return wrapped;
    const out = await this.send(
      this.call(
        new GetItemCommand({
          TableName: this.keysTable,
          Key: { pk: tenantKey(tenantId).pk },
          ConsistentRead: true,
        }),
      ),
    );
    const existing = out.Item?.dataKey?.B;
    if (!existing) throw serviceUnavailable('the key table');
    return existing;
  }

  async createTenant(tenant: TenantRecord): Promise<boolean> {
    return this.conditional(
      new PutItemCommand({
        TableName: this.table,
        Item: { ...tenantKey(tenant.tenantId), ...tenantToItem(tenant) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getTenant(tenantId: string): Promise<TenantRecord | undefined> {
    const out = await this.send(
      this.call(
        new GetItemCommand({ TableName: this.table, Key: tenantKey(tenantId), ConsistentRead: true }),
      ),
    );
    return tenantFromItem(out.Item);
  }

  async listTenants(
    afterTenantId: string | undefined,
    limit: number,
  ): Promise<{ tenants: TenantRecord[]; more: boolean }> {
    const out = await this.send(
      this.call(
        new QueryCommand({
          TableName: this.table,
          IndexName: TENANT_INDEX,
          KeyConditionExpression: 'directory = :directory',
          ExpressionAttributeValues: { ':directory': { S: TENANT_DIRECTORY } },
          Limit: limit,
          ExclusiveStartKey:
            afterTenantId === undefined
              ? undefined
              : {
                  directory: { S: TENANT_DIRECTORY },
                  directoryId: { S: afterTenantId },
                  ...tenantKey(afterTenantId),
                },
        }),
      ),
    );
    const tenants = (out.Items ?? [])
      .map((item) => tenantFromItem(item))
      .filter((tenant): tenant is TenantRecord => tenant !== undefined);
    return { tenants, more: out.LastEvaluatedKey !== undefined };
  }

  async shredTenant(tenantId: string, nowMs: number, reason: string): Promise<boolean> {
    // First the mark, which every request reads: from then on the tenant's keys are
    // refused. Then the data key, the only copy of which is in the key table: from then
    // on no sealed secret of the tenant opens, not even from a restored backup of the
    // table. A retry after a failure between the two finishes the second. (A tenant
    // made before the key table kept its key in its own item: the mark removes it.)
    const marked = await this.conditional(
      new UpdateItemCommand({
        TableName: this.table,
        Key: tenantKey(tenantId),
        UpdateExpression:
          'SET deletedAt = if_not_exists(deletedAt, :now), deleteReason = if_not_exists(deleteReason, :reason) REMOVE adminKeyIds, dataKey',
        ConditionExpression: itemExists,
        ExpressionAttributeValues: { ':now': N(nowMs), ':reason': { S: reason } },
      }),
    );
    if (!marked) return false;
    await this.send(
      this.call(new DeleteItemCommand({ TableName: this.keysTable, Key: { pk: tenantKey(tenantId).pk } })),
    );
    return true;
  }

  async purgeTenant(
    tenantId: string,
    max: number,
    finish: boolean,
  ): Promise<{ deleted: number; done: boolean }> {
    // Users (by the list index), audit events (by the audit index), keys: each query
    // finds what is left, so a purge stopped anywhere resumes where it stands.
    const pages: QueryCommandInput[] = [
      {
        TableName: this.table,
        IndexName: LIST_INDEX,
        KeyConditionExpression: 'listTenant = :tenant',
        ExpressionAttributeValues: { ':tenant': { S: tenantId } },
      },
      ...auditIndexPartitions(tenantId).map((partition) => ({
        TableName: this.table,
        IndexName: AUDIT_INDEX,
        KeyConditionExpression: 'auditTenant = :tenant',
        ExpressionAttributeValues: { ':tenant': { S: partition } },
      })),
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :keys)',
        ExpressionAttributeValues: { ':pk': tenantKey(tenantId).pk, ':keys': { S: 'KEY#' } },
        ConsistentRead: true,
      },
    ];
    let deleted = 0;
    for (const page of pages) {
      while (deleted < max) {
        const out = await this.send(
          this.call(
            new QueryCommand({
              ...page,
              Limit: Math.min(100, max - deleted),
              ProjectionExpression: 'pk, sk',
            }),
          ),
        );
        const keys = (out.Items ?? []).map((item) => ({
          pk: item.pk as AttributeValue,
          sk: item.sk as AttributeValue,
        }));
        if (keys.length === 0) break;
        await this.batchDelete(keys);
        deleted += keys.length;
      }
    }
    if (deleted > 0 || !finish) return { deleted, done: false };
    // Nothing of the tenant is left but its own item (and, were the shred interrupted,
    // its data key): the id is free again.
    await this.send(
      this.call(new DeleteItemCommand({ TableName: this.keysTable, Key: { pk: tenantKey(tenantId).pk } })),
    );
    await this.send(this.call(new DeleteItemCommand({ TableName: this.table, Key: tenantKey(tenantId) })));
    return { deleted, done: true };
  }

  /** BatchWriteItem deletes, 25 keys a call; what the store leaves unprocessed is sent again, with backoff. */
  private batchDelete(keys: Item[]): Promise<void> {
    return this.batchWrite(keys.map((Key) => ({ DeleteRequest: { Key } })));
  }

  /**
   * BatchWriteItem in calls of the 25 requests one may carry; requests the store left
   * unprocessed (throttling) are sent again, with backoff.
   */
  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    for (let offset = 0; offset < requests.length; offset += 25) {
      let pending = requests.slice(offset, offset + 25);
      for (let round = 0; pending.length > 0; round++) {
        if (round === 4) throw serviceUnavailable('the database');
        const out = await this.send(
          this.call(new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } })),
        );
        pending = out.UnprocessedItems?.[this.table] ?? [];
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));
      }
    }
  }

  async saveSettings(tenant: TenantRecord, settings: TenantRecord['settings']): Promise<boolean> {
    return this.conditional(
      new UpdateItemCommand({
        TableName: this.table,
        Key: tenantKey(tenant.tenantId),
        UpdateExpression: 'SET settings = :settings, revision = :next',
        ConditionExpression: 'revision = :revision',
        ExpressionAttributeValues: {
          ':settings': { S: JSON.stringify(settings) },
          ':revision': N(tenant.revision),
          ':next': N(tenant.revision + 1),
        },
      }),
    );
  }

  async putKey(key: ApiKeyRecord): Promise<void> {
    const applied = await this.conditional(
      new PutItemCommand({
        TableName: this.table,
        Item: { ...apiKeyKey(key.tenantId, key.id), ...apiKeyToItem(key) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    if (!applied) throw new Error('API key id collision');
  }

  async grantAdmin(tenantId: string, keyId: string): Promise<boolean> {
    return this.conditional(
      new UpdateItemCommand({
        TableName: this.table,
        Key: tenantKey(tenantId),
        UpdateExpression: 'ADD adminKeyIds :ids',
        ConditionExpression: `${itemExists} AND attribute_not_exists(deletedAt)`,
        ExpressionAttributeValues: { ':ids': { SS: [keyId] } },
      }),
    );
  }

  async revokeAdmin(tenantId: string, keyId: string): Promise<'revoked' | 'last' | 'absent'> {
    try {
      await this.send(
        this.call(
          new UpdateItemCommand({
            TableName: this.table,
            Key: tenantKey(tenantId),
            UpdateExpression: 'DELETE adminKeyIds :ids',
            ConditionExpression: 'contains(adminKeyIds, :id) AND size(adminKeyIds) > :one',
            ExpressionAttributeValues: { ':ids': { SS: [keyId] }, ':id': { S: keyId }, ':one': N(1) },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return 'revoked';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const tenant = error.Item ? tenantFromItem(error.Item) : await this.getTenant(tenantId);
      return tenant?.adminKeyIds?.includes(keyId) ? 'last' : 'absent';
    }
  }

  async initAdminKeys(tenantId: string, keyIds: string[]): Promise<void> {
    if (keyIds.length === 0) return;
    await this.conditional(
      new UpdateItemCommand({
        TableName: this.table,
        Key: tenantKey(tenantId),
        UpdateExpression: 'SET adminKeyIds = :ids',
        ConditionExpression: `${itemExists} AND attribute_not_exists(adminKeyIds) AND attribute_not_exists(deletedAt)`,
        ExpressionAttributeValues: { ':ids': { SS: keyIds } },
      }),
    );
  }

  async listKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    const keys: ApiKeyRecord[] = [];
    let start: Item | undefined;
    do {
      const out = await this.send(
        this.call(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': tenantKey(tenantId).pk, ':prefix': { S: 'KEY#' } },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of out.Items ?? []) {
        const key = apiKeyFromItem(item);
        if (key) keys.push(key);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return keys;
  }

  async deleteKey(tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined> {
    const out = await this.send(
      this.call(
        new DeleteItemCommand({
          TableName: this.table,
          Key: apiKeyKey(tenantId, keyId),
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    return apiKeyFromItem(out.Attributes);
  }

  async getUser(tenantId: string, userId: string): Promise<UserRecord | undefined> {
    const out = await this.send(
      this.call(
        new GetItemCommand({ TableName: this.table, Key: userKey(tenantId, userId), ConsistentRead: true }),
      ),
    );
    return userFromItem(out.Item);
  }

  async getUsers(tenantId: string, userIds: string[]): Promise<UserRecord[]> {
    if (userIds.length === 0) return [];
    const found = await this.batchGet(userIds.map((userId) => userKey(tenantId, userId)));
    return (found.get(this.table) ?? []).flatMap((item) => userFromItem(item) ?? []);
  }

  async importActive(
    tenantId: string,
    userId: string,
    active: ActiveEnrolment,
    expectActiveId: string | null,
  ): Promise<WriteResult> {
    return this.updateUser(emptyUser(tenantId, userId), {
      UpdateExpression: [
        `SET active = :active, ${resetFailures}, listTenant = :tenant, listUser = :user`,
        `REMOVE recovery, lastStep, lastStepToken, lastRecoveryToken, lastRecoveryHash, ${TTL_ATTRIBUTE}`,
      ].join(' '),
      ConditionExpression: expectActiveId === null ? noActive : activeIs,
      ExpressionAttributeValues: {
        ':active': enrolmentToMap(active),
        ':zero': N(0),
        ':tenant': { S: tenantId },
        ':user': { S: userId },
        ...(expectActiveId === null ? {} : { ':activeId': { S: expectActiveId } }),
      },
    });
  }

  async savePending(
    user: UserRecord,
    pending: PendingEnrolment,
    expectActiveId: string | null,
    expiresAtSeconds: number | null,
  ): Promise<WriteResult> {
    // The TTL is set only while the item holds no active enrolment: deleting the
    // item then loses nothing but an abandoned setup.
    const ttl = expiresAtSeconds === null ? ` REMOVE ${TTL_ATTRIBUTE}` : `, ${TTL_ATTRIBUTE} = :ttl`;
    return this.updateUser(user, {
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
  }

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
    return this.updateUser(user, {
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
  }

  async acceptStep(
    user: UserRecord,
    activeId: string,
    step: number,
    token: string,
    admission: Admission,
  ): Promise<WriteResult> {
    return this.updateUser(user, acceptStepUpdate(activeId, step, token, admission));
  }

  async spendRecoveryCode(
    user: UserRecord,
    activeId: string,
    hash: Uint8Array,
    token: string,
    admission: Admission,
  ): Promise<WriteResult> {
    return this.updateUser(user, {
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
  }

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
    const result = await this.updateUser(user, {
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
  }

  async replaceRecoveryCodes(user: UserRecord, activeId: string, hashes: Uint8Array[]): Promise<WriteResult> {
    return this.updateUser(user, {
      UpdateExpression: 'SET recovery = :recovery',
      ConditionExpression: activeIs,
      ExpressionAttributeValues: { ':recovery': { BS: hashes }, ':activeId': { S: activeId } },
    });
  }

  async unlock(user: UserRecord): Promise<boolean> {
    const result = await this.updateUser(user, {
      UpdateExpression: 'SET failedAttempts = :zero',
      ConditionExpression: itemExists,
      ExpressionAttributeValues: { ':zero': N(0) },
    });
    return result.applied;
  }

  async removeUser(tenantId: string, userId: string): Promise<UserRecord | undefined> {
    const out = await this.send(
      this.call(
        new DeleteItemCommand({
          TableName: this.table,
          Key: userKey(tenantId, userId),
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    return userFromItem(out.Attributes);
  }

  async listUsers(tenantId: string, afterUserId: string | undefined, limit: number): Promise<UserPage> {
    const out = await this.send(
      this.call(
        new QueryCommand({
          TableName: this.table,
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
    const items = keys.length === 0 ? [] : ((await this.batchGet(keys)).get(this.table) ?? []);
    const users = items
      .map((item) => userFromItem(item))
      .filter((user): user is UserRecord => user !== undefined)
      .sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
    const lastUserId = out.Items?.at(-1)?.listUser?.S;
    return { users, lastUserId, more: out.LastEvaluatedKey !== undefined };
  }

  async putAuditEvent(event: AuditEvent, expiresAtSeconds: number): Promise<void> {
    // Audit events are written once and never overwritten; one with an id of its own
    // that is there already was written before (a rerun of an import), and stays.
    const written = await this.conditional(
      new PutItemCommand({
        TableName: this.table,
        Item: auditToItem(event, expiresAtSeconds),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    if (!written && event.eventId === undefined) throw new Error('an audit event key was taken');
  }

  async putAuditEventsOnce(events: { event: AuditEvent; expiresAtSeconds: number }[]): Promise<void> {
    // Unconditional puts, so they batch: an event with an id of its own written again is
    // the same event (only its random index shard may move), never another one's.
    if (events.some(({ event }) => event.eventId === undefined)) {
      throw new Error('only events with an id of their own are written in batches');
    }
    await this.batchWrite(
      events.map(({ event, expiresAtSeconds }) => ({
        PutRequest: { Item: auditToItem(event, expiresAtSeconds) },
      })),
    );
  }

  async unwrittenAuditEvents(events: AuditEvent[]): Promise<AuditEvent[]> {
    const keyed = events.map((event) => ({ event, key: auditKey(event) }));
    const found = await this.batchGet(keyed.map(({ key }) => key));
    const written = new Set((found.get(this.table) ?? []).map((item) => `${item.pk?.S}\n${item.sk?.S}`));
    return keyed.filter(({ key }) => !written.has(`${key.pk.S}\n${key.sk.S}`)).map(({ event }) => event);
  }

  async listAuditEvents(
    tenantId: string,
    userId: string | undefined,
    after: AuditPosition | undefined,
    limit: number,
  ): Promise<{ events: AuditEvent[]; next: AuditPosition | undefined }> {
    if (userId === undefined) return this.listTenantAudit(tenantId, after, limit);
    const start = after && { pk: { S: after.pk }, sk: { S: after.sk } };
    const out = await this.send(
      this.call(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: auditPartition(tenantId, userId) } },
          ScanIndexForward: false,
          ConsistentRead: true,
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      ),
    );
    const items = out.Items ?? [];
    const last = items.at(-1);
    return {
      events: items.map(auditFromItem),
      next: out.LastEvaluatedKey && last ? { pk: last.pk?.S ?? '', sk: last.sk?.S ?? '' } : undefined,
    };
  }

  /**
   * A tenant-wide page: every shard of the index read newest first, in parallel, below
   * the previous page's last event, then merged. Event keys (`auditAt`) are unique, so
   * "older than the last one shown" resumes exactly: every event once, newest first.
   * A shard whose answer was cut short (1 MB) bounds the page to what it did return.
   */
  private async listTenantAudit(tenantId: string, after: AuditPosition | undefined, limit: number) {
    const shards = await Promise.all(
      auditIndexPartitions(tenantId).map((partition) =>
        this.send(
          this.call(
            new QueryCommand({
              TableName: this.table,
              IndexName: AUDIT_INDEX,
              KeyConditionExpression: after ? 'auditTenant = :p AND auditAt < :after' : 'auditTenant = :p',
              ExpressionAttributeValues: {
                ':p': { S: partition },
                ...(after ? { ':after': { S: after.sk } } : {}),
              },
              ScanIndexForward: false,
              Limit: limit,
            }),
          ),
        ),
      ),
    );
    const at = (item: Item) => item.auditAt?.S ?? '';
    // Below the last item of a shard that has more, that shard's events are not all here.
    const floor = shards
      .filter((out) => out.LastEvaluatedKey && (out.Items ?? []).length > 0)
      .map((out) => at((out.Items ?? []).at(-1) as Item))
      .reduce((highest, key) => (key > highest ? key : highest), '');
    const merged = shards
      .flatMap((out) => out.Items ?? [])
      .filter((item) => at(item) >= floor)
      .sort((a, b) => (at(a) < at(b) ? 1 : at(a) > at(b) ? -1 : 0));
    const page = merged.slice(0, limit);
    const more = merged.length > page.length || shards.some((out) => out.LastEvaluatedKey);
    const last = page.at(-1);
    return {
      events: page.map(auditFromItem),
      next: more && last ? { pk: last.pk?.S ?? '', sk: at(last) } : undefined,
    };
  }

  /** A conditional update of a user; a lost condition returns the item as it is, when the store says. */
  private async updateUser(
    user: UserRecord,
    input: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>,
  ): Promise<WriteResult & { attributes?: Item }> {
    try {
      const out = await this.send(
        this.call(
          new UpdateItemCommand({
            TableName: this.table,
            Key: userKey(user.tenantId, user.userId),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            ...input,
          }),
        ),
      );
      return { applied: true, ...(out.Attributes ? { attributes: out.Attributes } : {}) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // DynamoDB returns the item; dynalite does not, and then the caller re-reads.
        return { applied: false, current: error.Item ? userFromItem(error.Item) : undefined };
      }
      throw error;
    }
  }

  private async conditional(
    command: PutItemCommand | UpdateItemCommand | DeleteItemCommand,
  ): Promise<boolean> {
    try {
      await this.send(this.call(command as never));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Every call to the store: a failed condition is the caller's to read; a request the
   * store refuses as malformed is a defect of ours that no retry fixes (500, logged);
   * any other trouble (throttling, timeouts, the store down) is a 503 to retry.
   */
  private async send<T>(request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || error instanceof ApiError) throw error;
      if (error instanceof Error && REFUSED_AS_MALFORMED.has(error.name)) throw error;
      throw serviceUnavailable('the database', error);
    }
  }
}

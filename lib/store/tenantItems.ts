import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type ApiKeyRecord, type TenantRecord } from '../domain/records.ts';
import { serviceUnavailable } from '../errors.ts';
import { apiKeyFromItem, apiKeyToItem, tenantToItem, N, tenantFromItem } from './items.ts';
import { userFromItem } from './userItem.ts';
import type { CallerRecords, TenantStore, KeyStore } from './port.ts';
import {
  apiKeyKey,
  auditIndexPartitions,
  countingDirectory,
  enrolmentMetaKey,
  AUDIT_INDEX,
  LIST_INDEX,
  TENANT_DIRECTORY,
  TENANT_INDEX,
  tenantKey,
  TTL_ATTRIBUTE,
  userKey,
  requestPartition,
} from './table.ts';
import { composeUpdate, itemExists, joinParts } from './conditions.ts';
import type { SecurityEvent } from '../domain/webhooks.ts';
import { outboxAttributes, outboxParts } from './outboxItems.ts';
import type { DynamoTable } from './dynamoTable.ts';

type Item = Record<string, AttributeValue>;

/** Tenants and their API keys: the tenant item, its wrapped data key in the key table, the key items. */
export const tenantItems = (t: DynamoTable): TenantStore & KeyStore => ({
  async loadContext(ids: { tenantId: string; keyId?: string; userId?: string }): Promise<CallerRecords> {
    const keys: Item[] = [tenantKey(ids.tenantId)];
    if (ids.keyId !== undefined) keys.push(apiKeyKey(ids.tenantId, ids.keyId));
    if (ids.userId !== undefined) keys.push(userKey(ids.tenantId, ids.userId));
    // The tenant's data key comes in the same round trip, from its own table.
    const dataKey = { pk: tenantKey(ids.tenantId).pk };
    const found = await t.batchGet(keys, { table: t.keysTable, keys: [dataKey] });
    const items = found.get(t.table) ?? [];
    const find = (key: Item) => items.find((item) => item.pk?.S === key.pk?.S && item.sk?.S === key.sk?.S);
    const context: CallerRecords = {};
    const tenantItem = find(tenantKey(ids.tenantId));
    const tenant = tenantFromItem(tenantItem);
    // A tenant made before the key table kept its data key in its own item: still read.
    const wrapped = found.get(t.keysTable)?.[0]?.dataKey?.B ?? tenantItem?.dataKey?.B;
    if (tenant) context.tenant = { ...tenant, wrappedDataKey: wrapped ?? new Uint8Array() };
    const key =
      ids.keyId === undefined ? undefined : apiKeyFromItem(find(apiKeyKey(ids.tenantId, ids.keyId)));
    if (key) context.key = key;
    const user = ids.userId === undefined ? undefined : userFromItem(find(userKey(ids.tenantId, ids.userId)));
    if (user) context.user = user;
    return context;
  },

  async putDataKey(tenantId: string, wrapped: Uint8Array): Promise<Uint8Array> {
    // Never over another: a leftover of a creation that failed half-way is adopted
    // (nothing was ever sealed under it), and a live tenant's key is never replaced.
    const put = await t.conditional(
      new PutItemCommand({
        TableName: t.keysTable,
        Item: { pk: tenantKey(tenantId).pk, dataKey: { B: wrapped } },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    if (put) return wrapped;
    const out = await t.send(
      t.call(
        new GetItemCommand({
          TableName: t.keysTable,
          Key: { pk: tenantKey(tenantId).pk },
          ConsistentRead: true,
        }),
      ),
    );
    const existing = out.Item?.dataKey?.B;
    if (!existing) throw serviceUnavailable('the key table');
    return existing;
  },

  async createTenant(tenant: TenantRecord): Promise<boolean> {
    return t.conditional(
      new PutItemCommand({
        TableName: t.table,
        Item: { ...tenantKey(tenant.tenantId), ...tenantToItem(tenant) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  },

  async getTenant(tenantId: string): Promise<TenantRecord | undefined> {
    const out = await t.send(
      t.call(new GetItemCommand({ TableName: t.table, Key: tenantKey(tenantId), ConsistentRead: true })),
    );
    return tenantFromItem(out.Item);
  },

  async listTenants(
    afterTenantId: string | undefined,
    limit: number,
  ): Promise<{ tenants: TenantRecord[]; more: boolean }> {
    const out = await t.send(
      t.call(
        new QueryCommand({
          TableName: t.table,
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
  },

  async shredTenant(tenantId: string, nowMs: number, reason: string): Promise<boolean> {
    // First the mark, which every request reads: from then on the tenant's keys are
    // refused. Then the data key, the only copy of which is in the key table: from then
    // on no sealed secret of the tenant opens, not even from a restored backup of the
    // table. A retry after a failure between the two finishes the second. (A tenant
    // made before the key table kept its key in its own item: the mark removes it.)
    const marked = await t.conditional(
      new UpdateItemCommand({
        TableName: t.table,
        Key: tenantKey(tenantId),
        UpdateExpression:
          'SET deletedAt = if_not_exists(deletedAt, :now), deleteReason = if_not_exists(deleteReason, :reason) REMOVE adminKeyIds, dataKey',
        ConditionExpression: itemExists,
        ExpressionAttributeValues: { ':now': N(nowMs), ':reason': { S: reason } },
      }),
    );
    if (!marked) return false;
    await t.send(
      t.call(new DeleteItemCommand({ TableName: t.keysTable, Key: { pk: tenantKey(tenantId).pk } })),
    );
    return true;
  },

  async purgeTenant(
    tenantId: string,
    max: number,
    finish: boolean,
  ): Promise<{ deleted: number; done: boolean }> {
    // Users (by the list index), audit events (by the audit index), counts, keys: each query
    // finds what is left, so a purge stopped anywhere resumes where it stands.
    const pages: QueryCommandInput[] = [
      {
        TableName: t.table,
        IndexName: LIST_INDEX,
        KeyConditionExpression: 'listTenant = :tenant',
        ExpressionAttributeValues: { ':tenant': { S: tenantId } },
      },
      ...auditIndexPartitions(tenantId).map((partition) => ({
        TableName: t.table,
        IndexName: AUDIT_INDEX,
        KeyConditionExpression: 'auditTenant = :tenant',
        ExpressionAttributeValues: { ':tenant': { S: partition } },
      })),
      // Users a removal left for counting (no longer listed), and the counts themselves.
      {
        TableName: t.table,
        IndexName: TENANT_INDEX,
        KeyConditionExpression: 'directory = :directory',
        ExpressionAttributeValues: { ':directory': { S: countingDirectory(tenantId) } },
      },
      {
        TableName: t.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': enrolmentMetaKey(tenantId).pk },
        ConsistentRead: true,
      },
      {
        TableName: t.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :keys)',
        ExpressionAttributeValues: { ':pk': tenantKey(tenantId).pk, ':keys': { S: 'KEY#' } },
        ConsistentRead: true,
      },
      // Remembered requests (their answers were sealed under the shredded data key).
      {
        TableName: t.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: requestPartition(tenantId) } },
        ConsistentRead: true,
      },
      // The webhook endpoints (their secrets were shredded with the data key already).
      {
        TableName: t.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :hooks)',
        ExpressionAttributeValues: { ':pk': tenantKey(tenantId).pk, ':hooks': { S: 'WEBHOOK#' } },
        ConsistentRead: true,
      },
    ];
    let deleted = 0;
    for (const page of pages) {
      while (deleted < max) {
        const out = await t.send(
          t.call(
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
        await t.batchDelete(keys);
        deleted += keys.length;
      }
    }
    if (deleted > 0 || !finish) return { deleted, done: false };
    // Nothing of the tenant is left but its own item (and, were the shred interrupted,
    // its data key): the id is free again.
    await t.send(
      t.call(new DeleteItemCommand({ TableName: t.keysTable, Key: { pk: tenantKey(tenantId).pk } })),
    );
    await t.send(t.call(new DeleteItemCommand({ TableName: t.table, Key: tenantKey(tenantId) })));
    return { deleted, done: true };
  },

  async saveSettings(
    tenant: TenantRecord,
    settings: TenantRecord['settings'],
    events: readonly SecurityEvent[] = [],
  ): Promise<boolean> {
    return t.conditional(
      new UpdateItemCommand({
        TableName: t.table,
        Key: tenantKey(tenant.tenantId),
        ...composeUpdate(
          joinParts(
            {
              set: ['settings = :settings', 'revision = :next'],
              conditions: ['revision = :revision'],
              values: {
                ':settings': { S: JSON.stringify(settings) },
                ':revision': N(tenant.revision),
                ':next': N(tenant.revision + 1),
              },
            },
            outboxParts(tenantKey(tenant.tenantId).pk.S, events),
          ),
        ),
      }),
    );
  },

  async putKey(key: ApiKeyRecord, events: readonly SecurityEvent[] = []): Promise<void> {
    const itemKey = apiKeyKey(key.tenantId, key.id);
    const applied = await t.conditional(
      new PutItemCommand({
        TableName: t.table,
        Item: { ...itemKey, ...apiKeyToItem(key), ...outboxAttributes(itemKey.pk.S, events) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    if (!applied) throw new Error('API key id collision');
  },

  async grantAdmin(tenantId: string, keyId: string): Promise<boolean> {
    return t.conditional(
      new UpdateItemCommand({
        TableName: t.table,
        Key: tenantKey(tenantId),
        UpdateExpression: 'ADD adminKeyIds :ids',
        ConditionExpression: `${itemExists} AND attribute_not_exists(deletedAt)`,
        ExpressionAttributeValues: { ':ids': { SS: [keyId] } },
      }),
    );
  },

  async revokeAdmin(tenantId: string, keyId: string): Promise<'revoked' | 'last' | 'absent'> {
    try {
      await t.send(
        t.call(
          new UpdateItemCommand({
            TableName: t.table,
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
  },

  async initAdminKeys(tenantId: string, keyIds: string[]): Promise<void> {
    if (keyIds.length === 0) return;
    await t.conditional(
      new UpdateItemCommand({
        TableName: t.table,
        Key: tenantKey(tenantId),
        UpdateExpression: 'SET adminKeyIds = :ids',
        ConditionExpression: `${itemExists} AND attribute_not_exists(adminKeyIds) AND attribute_not_exists(deletedAt)`,
        ExpressionAttributeValues: { ':ids': { SS: keyIds } },
      }),
    );
  },

  async listKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    const keys: ApiKeyRecord[] = [];
    let start: Item | undefined;
    do {
      const out = await t.send(
        t.call(
          new QueryCommand({
            TableName: t.table,
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
  },

  async getKey(tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined> {
    const out = await t.send(
      t.call(
        new GetItemCommand({ TableName: t.table, Key: apiKeyKey(tenantId, keyId), ConsistentRead: true }),
      ),
    );
    return apiKeyFromItem(out.Item);
  },

  async deleteKey(
    tenantId: string,
    keyId: string,
    events: readonly SecurityEvent[] = [],
  ): Promise<ApiKeyRecord | undefined> {
    const key = apiKeyKey(tenantId, keyId);
    if (events.length === 0) {
      const out = await t.send(
        t.call(new DeleteItemCommand({ TableName: t.table, Key: key, ReturnValues: 'ALL_OLD' })),
      );
      return apiKeyFromItem(out.Attributes);
    }
    // The key's fields go (it no longer authenticates), its events stay until published.
    try {
      const out = await t.send(
        t.call(
          new UpdateItemCommand({
            TableName: t.table,
            Key: key,
            ...composeUpdate(
              joinParts(outboxParts(key.pk.S, events), {
                set: [`${TTL_ATTRIBUTE} = :expires`],
                remove: ['#name', 'scopes', 'salt', '#hash', 'createdAt'],
                conditions: ['attribute_exists(#hash)'],
                names: { '#name': 'name', '#hash': 'hash' },
                // Kept a week from the change, for a dispatcher that was down for days.
                values: { ':expires': N(Math.ceil((events[0]?.at ?? 0) / 1000) + 7 * 86_400) },
              }),
            ),
            ReturnValues: 'ALL_OLD',
          }),
        ),
      );
      return apiKeyFromItem(out.Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  },
});

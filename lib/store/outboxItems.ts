import {
  type AttributeValue,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { SecurityEvent } from '../domain/webhooks.ts';
import type { UpdateParts } from './conditions.ts';
import type { DynamoTable } from './dynamoTable.ts';
import { N } from './items.ts';
import type { ItemRef, OutboxStore } from './port.ts';
import { apiKeyKey, AUDIT_INDEX, shardOf, tenantKey, timeSortKey, userKey } from './table.ts';

/**
 * Security events ride in the write that makes them true: the changed item's `outbox`
 * (a list of events as JSON), in the same conditional write, so no change commits
 * without its events. While an item holds events it is also in the sparse audit index
 * under `OUTBOX#<shard>`, by when they were written: the request publishes them right
 * after its write, and a dispatcher run publishes whatever a request left (it died,
 * or its publishing failed). Publishing is idempotent (a message per event id), and
 * the outbox is cleared only if no event was added since it was read.
 */
const OUTBOX_SHARDS = 4;

/** The parts that add `events` to the outbox of the item `pk`, for any write's update. */
export function outboxParts(pk: string, events: readonly SecurityEvent[]): UpdateParts {
  if (events.length === 0) return {};
  const at = Math.min(...events.map((e) => e.at));
  return {
    set: [
      '#outbox = list_append(if_not_exists(#outbox, :noEvents), :outboxEvents)',
      'auditTenant = :outboxShard',
      'auditAt = :outboxAt',
    ],
    names: { '#outbox': 'outbox' },
    values: {
      ':noEvents': { L: [] },
      ':outboxEvents': { L: events.map((e) => ({ S: JSON.stringify(e) })) },
      ':outboxShard': { S: `OUTBOX#${shardOf(pk, OUTBOX_SHARDS)}` },
      ':outboxAt': { S: `${timeSortKey(at)}#${pk}` },
    },
  };
}

/** The same as item attributes, for a write that puts a new item. */
export function outboxAttributes(
  pk: string,
  events: readonly SecurityEvent[],
): Record<string, AttributeValue> {
  if (events.length === 0) return {};
  const { values = {} } = outboxParts(pk, events);
  return {
    outbox: values[':outboxEvents'] as AttributeValue,
    auditTenant: values[':outboxShard'] as AttributeValue,
    auditAt: values[':outboxAt'] as AttributeValue,
  };
}

/** The outbox parts of a user's item. */
export const userOutbox = (user: { tenantId: string; userId: string }, events: readonly SecurityEvent[]) =>
  outboxParts(userKey(user.tenantId, user.userId).pk.S, events);

const parse = (item: Record<string, AttributeValue> | undefined): SecurityEvent[] =>
  (item?.outbox?.L ?? []).flatMap((entry) => {
    try {
      return [JSON.parse(entry.S ?? '') as SecurityEvent];
    } catch {
      return [];
    }
  });

export const outboxItems = (t: DynamoTable): OutboxStore => ({
  userRef: (tenantId, userId) => userKey(tenantId, userId),
  tenantRef: (tenantId) => tenantKey(tenantId),
  keyRef: (tenantId, keyId) => apiKeyKey(tenantId, keyId),

  async readOutbox(ref) {
    const out = await t.send(
      t.call(
        new GetItemCommand({
          TableName: t.table,
          Key: { ...ref },
          ConsistentRead: true,
          ProjectionExpression: 'outbox',
        }),
      ),
    );
    return parse(out.Item);
  },

  clearOutbox(ref, count) {
    return t.conditional(
      new UpdateItemCommand({
        TableName: t.table,
        Key: { ...ref },
        UpdateExpression: 'REMOVE #outbox, auditTenant, auditAt',
        ConditionExpression: 'size(#outbox) = :count',
        ExpressionAttributeNames: { '#outbox': 'outbox' },
        ExpressionAttributeValues: { ':count': N(count) },
      }),
    );
  },

  async leftOutboxes(writtenBefore, limit) {
    const refs: ItemRef[] = [];
    for (let shard = 0; shard < OUTBOX_SHARDS && refs.length < limit; shard++) {
      const out = await t.send(
        t.call(
          new QueryCommand({
            TableName: t.table,
            IndexName: AUDIT_INDEX,
            KeyConditionExpression: 'auditTenant = :shard AND auditAt <= :before',
            ExpressionAttributeValues: {
              ':shard': { S: `OUTBOX#${shard}` },
              ':before': { S: `${timeSortKey(writtenBefore)}~` },
            },
            ProjectionExpression: 'pk, sk',
            Limit: limit - refs.length,
          }),
        ),
      );
      for (const item of out.Items ?? []) {
        if (item.pk && item.sk) refs.push({ pk: item.pk as { S: string }, sk: item.sk as { S: string } });
      }
    }
    return refs;
  },
});

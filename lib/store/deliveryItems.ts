import {
  type AttributeValue,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DELIVERY_DAYS,
  type DeliveryRecord,
  type DeliveryStatus,
  type EventType,
} from '../domain/webhooks.ts';
import { composeUpdate, type UpdateParts } from './conditions.ts';
import type { DynamoTable } from './dynamoTable.ts';
import { N, num, str } from './items.ts';
import type { DeliveryStore } from './port.ts';
import { shardOf, TENANT_INDEX, timeSortKey, TTL_ATTRIBUTE } from './table.ts';

type Item = Record<string, AttributeValue>;

/**
 * Deliveries: one item per message and endpoint (`DELIVERY#<tenant>#<webhook>`,
 * `<messageId>`, ids sortable by time so the partition reads newest first), expiring
 * after DELIVERY_DAYS. A pending one is also in the tenant-directory index under
 * `DUE#<shard>`, keyed by when its next attempt is due: the dispatcher reads what is
 * due from there, whatever the tenant. Claiming an attempt moves that time past the
 * attempt's lease in one conditional write, so two dispatchers never send the same
 * attempt, and an attempt cut by a crash is due again once its lease ends.
 */
const DUE_SHARDS = 4;

export const deliveryKey = (tenantId: string, webhookId: string, messageId: string) => ({
  pk: { S: `DELIVERY#${tenantId}#${webhookId}` },
  sk: { S: messageId },
});

const dueParts = (d: Pick<DeliveryRecord, 'messageId'>, at: number): UpdateParts => ({
  set: ['directory = :dueShard', 'directoryId = :dueId', 'nextAttemptAt = :dueAt'],
  values: {
    ':dueShard': { S: `DUE#${shardOf(d.messageId, DUE_SHARDS)}` },
    ':dueId': { S: `${timeSortKey(at)}#${d.messageId}` },
    ':dueAt': N(at),
  },
});
const notDue: UpdateParts = { remove: ['directory', 'directoryId', 'nextAttemptAt'] };

function fromItem(item: Item | undefined): DeliveryRecord | undefined {
  if (!item?.messageId?.S) return undefined;
  const [, tenantId = '', webhookId = ''] = str(item.pk).split('#');
  const optional = (name: string) => {
    const value = num(item[name]);
    return value === undefined ? {} : { [name]: value };
  };
  return {
    tenantId,
    webhookId,
    messageId: item.messageId.S,
    type: str(item.type) as EventType,
    body: str(item.body),
    createdAt: num(item.createdAt) ?? 0,
    attempts: num(item.attempts) ?? 0,
    status: str(item.status) as DeliveryStatus,
    retriesFrom: num(item.retriesFrom) ?? 0,
    ...optional('nextAttemptAt'),
    ...optional('lastAttemptAt'),
    ...optional('responseStatus'),
  };
}

export const deliveryItems = (t: DynamoTable): DeliveryStore => {
  const update = (d: DeliveryRecord, parts: UpdateParts) =>
    t.conditional(
      new UpdateItemCommand({
        TableName: t.table,
        Key: deliveryKey(d.tenantId, d.webhookId, d.messageId),
        ...composeUpdate(parts),
      }),
    );

  return {
    async addDelivery(d) {
      const at = d.nextAttemptAt ?? d.createdAt;
      const due = composeUpdate(dueParts(d, at));
      return t.conditional(
        new PutItemCommand({
          TableName: t.table,
          Item: {
            ...deliveryKey(d.tenantId, d.webhookId, d.messageId),
            messageId: { S: d.messageId },
            type: { S: d.type },
            body: { S: d.body },
            createdAt: N(d.createdAt),
            attempts: N(0),
            retriesFrom: N(0),
            status: { S: 'pending' },
            directory: due.ExpressionAttributeValues?.[':dueShard'] as AttributeValue,
            directoryId: due.ExpressionAttributeValues?.[':dueId'] as AttributeValue,
            nextAttemptAt: N(at),
            [TTL_ATTRIBUTE]: N(Math.ceil(d.createdAt / 1000) + DELIVERY_DAYS * 86_400),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    },

    async dueDeliveries(nowMs, limit) {
      const found: DeliveryRecord[] = [];
      for (let shard = 0; shard < DUE_SHARDS && found.length < limit; shard++) {
        const out = await t.send(
          t.call(
            new QueryCommand({
              TableName: t.table,
              IndexName: TENANT_INDEX,
              KeyConditionExpression: 'directory = :shard AND directoryId <= :now',
              ExpressionAttributeValues: {
                ':shard': { S: `DUE#${shard}` },
                ':now': { S: `${timeSortKey(nowMs)}~` },
              },
              Limit: limit - found.length,
            }),
          ),
        );
        // The index holds keys only: each item is read whole, as it is now.
        for (const key of out.Items ?? []) {
          const item = await t.send(
            t.call(
              new GetItemCommand({
                TableName: t.table,
                Key: { pk: key.pk as AttributeValue, sk: key.sk as AttributeValue },
                ConsistentRead: true,
              }),
            ),
          );
          const delivery = fromItem(item.Item);
          if (delivery?.status === 'pending' && (delivery.nextAttemptAt ?? 0) <= nowMs) found.push(delivery);
        }
      }
      return found;
    },

    async getDelivery(tenantId, webhookId, messageId) {
      const out = await t.send(
        t.call(
          new GetItemCommand({
            TableName: t.table,
            Key: deliveryKey(tenantId, webhookId, messageId),
            ConsistentRead: true,
          }),
        ),
      );
      return fromItem(out.Item);
    },

    async listDeliveries(tenantId, webhookId, before, limit) {
      const out = await t.send(
        t.call(
          new QueryCommand({
            TableName: t.table,
            KeyConditionExpression: before === undefined ? 'pk = :pk' : 'pk = :pk AND sk < :before',
            ExpressionAttributeValues: {
              ':pk': { S: `DELIVERY#${tenantId}#${webhookId}` },
              ...(before === undefined ? {} : { ':before': { S: before } }),
            },
            ScanIndexForward: false,
            Limit: limit,
            ConsistentRead: true,
          }),
        ),
      );
      const deliveries = (out.Items ?? []).map(fromItem).filter((d): d is DeliveryRecord => d !== undefined);
      return { deliveries, more: out.LastEvaluatedKey !== undefined };
    },

    claimAttempt(d, leaseUntil) {
      return update(d, {
        ...dueParts(d, leaseUntil),
        add: ['attempts :one'],
        conditions: ['#status = :pending', 'nextAttemptAt = :seen', 'attempts = :attempts'],
        values: {
          ...dueParts(d, leaseUntil).values,
          ':one': N(1),
          ':pending': { S: 'pending' },
          ':seen': N(d.nextAttemptAt ?? 0),
          ':attempts': N(d.attempts),
        },
        names: { '#status': 'status' },
      });
    },

    deferDelivery(d, until) {
      // Not an attempt (a paused endpoint): due again later, the attempt count as it was.
      return update(d, {
        ...dueParts(d, until),
        conditions: ['#status = :pending', 'nextAttemptAt = :seen'],
        values: {
          ...dueParts(d, until).values,
          ':pending': { S: 'pending' },
          ':seen': N(d.nextAttemptAt ?? 0),
        },
        names: { '#status': 'status' },
      });
    },

    recordAttempt(d, outcome) {
      const claimed = d.attempts + 1;
      const result: UpdateParts = {
        set: ['lastAttemptAt = :at', '#status = :status'],
        ...(outcome.responseStatus === undefined ? { remove: ['responseStatus'] } : {}),
        values: {
          ':at': N(outcome.at),
          ':status': { S: outcome.retryAt === undefined ? outcome.status : 'pending' },
          ':claimed': N(claimed),
          ...(outcome.responseStatus === undefined ? {} : { ':response': N(outcome.responseStatus) }),
        },
        names: { '#status': 'status' },
        conditions: ['attempts = :claimed'],
      };
      if (outcome.responseStatus !== undefined) result.set?.push('responseStatus = :response');
      const next = outcome.retryAt === undefined ? notDue : dueParts(d, outcome.retryAt);
      return update(d, {
        set: [...(result.set ?? []), ...(next.set ?? [])],
        remove: [...(result.remove ?? []), ...(next.remove ?? [])],
        conditions: result.conditions,
        values: { ...result.values, ...next.values },
        names: result.names,
      });
    },

    redeliver(d, nowMs) {
      // The same message (same webhook-id and body), sent again now, with a fresh schedule.
      return update(d, {
        ...dueParts(d, nowMs),
        set: [...(dueParts(d, nowMs).set ?? []), '#status = :pending', 'retriesFrom = attempts'],
        values: { ...dueParts(d, nowMs).values, ':pending': { S: 'pending' } },
        names: { '#status': 'status' },
        conditions: ['attribute_exists(pk)'],
      });
    },

    finishDelivery(d, status) {
      return update(d, {
        ...notDue,
        set: ['#status = :status'],
        values: { ':status': { S: status } },
        names: { '#status': 'status' },
        conditions: ['attribute_exists(pk)'],
      });
    },
  };
};

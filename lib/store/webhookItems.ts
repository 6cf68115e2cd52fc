import {
  type AttributeValue,
  DeleteItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { MAX_WEBHOOKS, type WebhookRecord, type WebhookStatus } from '../domain/webhooks.ts';
import { serviceUnavailable } from '../errors.ts';
import type { DynamoTable } from './dynamoTable.ts';
import { N, num, str } from './items.ts';
import type { WebhookStore } from './port.ts';
import { tenantKey } from './table.ts';

type Item = Record<string, AttributeValue>;

/**
 * A tenant's webhook endpoints: items of its own partition (`TENANT#<tenant>`), one per
 * slot, `WEBHOOK#0` to `WEBHOOK#9`. Claiming a free slot is one conditional put, so
 * ten concurrent creations make at most the ten endpoints the contract allows, and a
 * tenant's deletion purges them with its keys. Every change is conditioned on the
 * version it read.
 */
const slotKey = (tenantId: string, slot: number) => ({
  ...tenantKey(tenantId),
  sk: { S: `WEBHOOK#${slot}` },
});

const toItem = (w: WebhookRecord): Item => ({
  ...slotKey(w.tenantId, w.slot),
  webhookId: { S: w.id },
  url: { S: w.url },
  events: { L: w.events.map((e) => ({ S: e })) },
  description: { S: w.description },
  status: { S: w.status },
  secrets: {
    L: w.secrets.map((s) => ({
      M: { n: N(s.n), sealed: { B: s.sealed }, ...(s.until === undefined ? {} : { until: N(s.until) }) },
    })),
  },
  createdAt: N(w.createdAt),
  updatedAt: N(w.updatedAt),
  version: N(w.version),
  ...(w.failingSince === undefined ? {} : { failingSince: N(w.failingSince) }),
});

function fromItem(item: Item | undefined): WebhookRecord | undefined {
  if (!item?.webhookId?.S) return undefined;
  return {
    tenantId: str(item.pk).slice('TENANT#'.length),
    id: item.webhookId.S,
    slot: Number(str(item.sk).slice('WEBHOOK#'.length)),
    url: str(item.url),
    events: (item.events?.L ?? []).map((e) => str(e)),
    description: str(item.description),
    status: str(item.status) as WebhookStatus,
    secrets: (item.secrets?.L ?? []).map((s) => {
      const m = s.M ?? {};
      const until = num(m.until);
      return {
        n: num(m.n) ?? 0,
        sealed: m.sealed?.B ?? new Uint8Array(),
        ...(until === undefined ? {} : { until }),
      };
    }),
    createdAt: num(item.createdAt) ?? 0,
    updatedAt: num(item.updatedAt) ?? 0,
    version: num(item.version) ?? 0,
    ...(item.failingSince?.N ? { failingSince: Number(item.failingSince.N) } : {}),
  };
}

export const webhookItems = (t: DynamoTable): WebhookStore => {
  const listWebhooks = async (tenantId: string): Promise<WebhookRecord[]> => {
    // At most ten small items: one page.
    const out = await t.send(
      t.call(
        new QueryCommand({
          TableName: t.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': tenantKey(tenantId).pk, ':prefix': { S: 'WEBHOOK#' } },
          ConsistentRead: true,
        }),
      ),
    );
    return (out.Items ?? [])
      .map(fromItem)
      .filter((w): w is WebhookRecord => w !== undefined)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  };

  return {
    listWebhooks,

    async addWebhook(webhook) {
      for (let attempt = 0; attempt < MAX_WEBHOOKS; attempt++) {
        const taken = new Set((await listWebhooks(webhook.tenantId)).map((w) => w.slot));
        const slot = [...Array(MAX_WEBHOOKS).keys()].find((s) => !taken.has(s));
        if (slot === undefined) return undefined;
        const claimed = await t.conditional(
          new PutItemCommand({
            TableName: t.table,
            Item: toItem({ ...webhook, slot }),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        if (claimed) return { ...webhook, slot };
      }
      // Every try lost its slot to another creation: busy, not full.
      throw serviceUnavailable('the webhook endpoints, created by other requests meanwhile,');
    },

    async replaceWebhook(next, readVersion) {
      return t.conditional(
        new PutItemCommand({
          TableName: t.table,
          Item: toItem(next),
          ConditionExpression: 'webhookId = :id AND version = :version',
          ExpressionAttributeValues: { ':id': { S: next.id }, ':version': N(readVersion) },
        }),
      );
    },

    async deleteWebhook(webhook) {
      return t.conditional(
        new DeleteItemCommand({
          TableName: t.table,
          Key: slotKey(webhook.tenantId, webhook.slot),
          ConditionExpression: 'webhookId = :id',
          ExpressionAttributeValues: { ':id': { S: webhook.id } },
        }),
      );
    },
  };
};

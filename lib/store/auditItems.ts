import { PutItemCommand, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { type AuditEvent } from '../domain/audit.ts';
import { auditFromItem, auditKey, auditToItem } from './items.ts';
import type { AuditPosition, AuditStore } from './port.ts';
import { AUDIT_INDEX, auditIndexPartitions, auditPartition } from './table.ts';
import type { DynamoTable } from './dynamoTable.ts';

type Item = Record<string, AttributeValue>;

/** Audit events: written once, listed per user or per tenant over the sharded index (table.ts). */
export const auditItems = (t: DynamoTable): AuditStore => ({
  async putAuditEvent(event: AuditEvent, expiresAtSeconds: number): Promise<void> {
    // Audit events are written once and never overwritten; one with an id of its own
    // that is there already was written before (a rerun of an import), and stays.
    const written = await t.conditional(
      new PutItemCommand({
        TableName: t.table,
        Item: auditToItem(event, expiresAtSeconds),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    if (!written && event.eventId === undefined) throw new Error('an audit event key was taken');
  },

  async putAuditEventsOnce(events: { event: AuditEvent; expiresAtSeconds: number }[]): Promise<void> {
    // Unconditional puts, so they batch: an event with an id of its own written again is
    // the same event (only its random index shard may move), never another one's.
    if (events.some(({ event }) => event.eventId === undefined)) {
      throw new Error('only events with an id of their own are written in batches');
    }
    await t.batchWrite(
      events.map(({ event, expiresAtSeconds }) => ({
        PutRequest: { Item: auditToItem(event, expiresAtSeconds) },
      })),
    );
  },

  async unwrittenAuditEvents(events: AuditEvent[]): Promise<AuditEvent[]> {
    const keyed = events.map((event) => ({ event, key: auditKey(event) }));
    const found = await t.batchGet(keyed.map(({ key }) => key));
    const written = new Set((found.get(t.table) ?? []).map((item) => `${item.pk?.S}\n${item.sk?.S}`));
    return keyed.filter(({ key }) => !written.has(`${key.pk.S}\n${key.sk.S}`)).map(({ event }) => event);
  },

  async listAuditEvents(
    tenantId: string,
    userId: string | undefined,
    after: AuditPosition | undefined,
    limit: number,
  ): Promise<{ events: AuditEvent[]; next: AuditPosition | undefined }> {
    if (userId === undefined) return listTenantAudit(t, tenantId, after, limit);
    const start = after && { pk: { S: after.pk }, sk: { S: after.sk } };
    const out = await t.send(
      t.call(
        new QueryCommand({
          TableName: t.table,
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
  },
});

/**
 * A tenant-wide page: every shard of the index read newest first, in parallel, below
 * the previous page's last event, then merged. Event keys (`auditAt`) are unique, so
 * "older than the last one shown" resumes exactly: every event once, newest first.
 * A shard whose answer was cut short (1 MB) bounds the page to what it did return.
 */
async function listTenantAudit(
  t: DynamoTable,
  tenantId: string,
  after: AuditPosition | undefined,
  limit: number,
) {
  const shards = await Promise.all(
    auditIndexPartitions(tenantId).map((partition) =>
      t.send(
        t.call(
          new QueryCommand({
            TableName: t.table,
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

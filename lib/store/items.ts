import { randomBytes, randomInt } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AuditAction, AuditEvent } from '../domain/audit.ts';
import { type TenantSettings, withDefaults } from '../domain/settings.ts';
import type { ApiKeyRecord, Scope, TenantRecord } from '../domain/records.ts';
import { AUDIT_SHARDS, auditPartition, auditShard, TENANT_DIRECTORY, TTL_ATTRIBUTE } from './table.ts';

/** Translation between records and DynamoDB items, kept by hand: a few fields, no runtime library. */
type Item = Record<string, AttributeValue>;

export const num = (value: AttributeValue | undefined): number | undefined =>
  value?.N === undefined ? undefined : Number(value.N);
export const str = (value: AttributeValue | undefined): string => value?.S ?? '';
export const N = (value: number): AttributeValue => ({ N: String(value) });

export const tenantToItem = (t: TenantRecord): Item => ({
  settings: { S: JSON.stringify(t.settings) },
  createdAt: N(t.createdAt),
  revision: N(t.revision),
  directory: { S: TENANT_DIRECTORY },
  directoryId: { S: t.tenantId },
  ...(t.adminKeyIds && t.adminKeyIds.length > 0 ? { adminKeyIds: { SS: t.adminKeyIds } } : {}),
});

export function tenantFromItem(item: Item | undefined): TenantRecord | undefined {
  if (!item) return undefined;
  return {
    tenantId: str(item.pk).slice('TENANT#'.length),
    settings: withDefaults(JSON.parse(str(item.settings)) as TenantSettings),
    createdAt: num(item.createdAt) ?? 0,
    // Only loadContext reads the data key, from its own table (DynamoStore).
    wrappedDataKey: new Uint8Array(),
    revision: num(item.revision) ?? 0,
    ...(item.adminKeyIds?.SS ? { adminKeyIds: item.adminKeyIds.SS } : {}),
    ...(item.deletedAt?.N ? { deletedAt: Number(item.deletedAt.N) } : {}),
  };
}

export const apiKeyToItem = (k: ApiKeyRecord): Item => ({
  name: { S: k.name },
  scopes: { SS: k.scopes },
  salt: { B: k.salt },
  hash: { B: k.hash },
  createdAt: N(k.createdAt),
});

export function apiKeyFromItem(item: Item | undefined): ApiKeyRecord | undefined {
  // A deleted key whose events await publishing holds no hash: no key.
  if (!item?.hash?.B) return undefined;
  return {
    tenantId: str(item.pk).slice('TENANT#'.length),
    id: str(item.sk).slice('KEY#'.length),
    name: str(item.name),
    scopes: (item.scopes?.SS ?? []) as Scope[],
    salt: item.salt?.B ?? new Uint8Array(),
    hash: item.hash?.B ?? new Uint8Array(),
    createdAt: num(item.createdAt) ?? 0,
  };
}

/**
 * An event's key. The request id is the caller's to choose: a random part keeps two
 * events apart, unless the event has an id of its own (written again, it is the same item).
 */
export function auditKey(event: AuditEvent): { pk: AttributeValue; sk: AttributeValue } {
  const unique = event.eventId ?? randomBytes(4).toString('hex');
  return {
    pk: { S: auditPartition(event.tenantId, event.userId) },
    sk: { S: `${new Date(event.at).toISOString()}#${event.requestId}#${event.action}#${unique}` },
  };
}

export function auditToItem(event: AuditEvent, expiresAtSeconds: number): Item {
  const { pk, sk } = auditKey(event);
  const item: Item = {
    pk,
    sk,
    auditTenant: { S: auditShard(event.tenantId, randomInt(AUDIT_SHARDS)) },
    auditAt: sk,
    at: N(event.at),
    action: { S: event.action },
    actorKeyId: { S: event.actor.keyId },
    actorName: { S: event.actor.name },
    outcome: { S: event.outcome },
    requestId: { S: event.requestId },
    [TTL_ATTRIBUTE]: N(expiresAtSeconds),
  };
  if (event.userId !== undefined) item.userId = { S: event.userId };
  if (event.reason !== undefined) item.reason = { S: event.reason };
  if (event.authenticatorId !== undefined) item.authenticatorId = { S: event.authenticatorId };
  return item;
}

export function auditFromItem(item: Item): AuditEvent {
  const event: AuditEvent = {
    tenantId: str(item.auditTenant).split('#')[0] ?? '',
    at: num(item.at) ?? 0,
    action: str(item.action) as AuditAction,
    actor: { keyId: str(item.actorKeyId), name: str(item.actorName) },
    outcome: str(item.outcome),
    requestId: str(item.requestId),
  };
  if (item.userId?.S !== undefined) event.userId = item.userId.S;
  if (item.reason?.S !== undefined) event.reason = item.reason.S;
  if (item.authenticatorId?.S !== undefined) event.authenticatorId = item.authenticatorId.S;
  return event;
}

import { randomBytes, randomInt } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AuditAction, AuditEvent } from '../domain/audit.ts';
import type { TenantSettings } from '../domain/settings.ts';
import type { Enrolment, UserRecord } from '../domain/user.ts';
import type { ApiKeyRecord, Scope, TenantRecord } from '../domain/records.ts';
import { AUDIT_SHARDS, auditPartition, auditShard, TENANT_DIRECTORY, TTL_ATTRIBUTE } from './table.ts';

/** Translation between records and DynamoDB items, kept by hand: a few fields, no runtime library. */
type Item = Record<string, AttributeValue>;

const num = (value: AttributeValue | undefined): number | undefined =>
  value?.N === undefined ? undefined : Number(value.N);
const str = (value: AttributeValue | undefined): string => value?.S ?? '';
export const N = (value: number): AttributeValue => ({ N: String(value) });

export function enrolmentToMap(e: Enrolment & { expiresAt?: number; confirmedAt?: number }): AttributeValue {
  const map: Item = {
    id: { S: e.id },
    secret: { B: e.sealedSecret },
    algorithm: { S: e.algorithm },
    digits: N(e.digits),
    period: N(e.period),
    issuer: { S: e.issuer },
    accountName: { S: e.accountName },
    createdAt: N(e.createdAt),
  };
  if (e.source !== undefined) map.source = { S: e.source };
  if (e.secretBytes !== undefined) map.secretBytes = N(e.secretBytes);
  if (e.origin !== undefined) {
    const origin: Item = {
      requestId: { S: e.origin.requestId },
      keyId: { S: e.origin.keyId },
      keyName: { S: e.origin.keyName },
    };
    if (e.origin.reason !== undefined) origin.reason = { S: e.origin.reason };
    map.origin = { M: origin };
  }
  if (e.expiresAt !== undefined) map.expiresAt = N(e.expiresAt);
  if (e.confirmedAt !== undefined) map.confirmedAt = N(e.confirmedAt);
  return { M: map };
}

const originFromMap = (m: Item | undefined): Pick<Enrolment, 'origin'> =>
  m === undefined
    ? {}
    : {
        origin: {
          requestId: str(m.requestId),
          keyId: str(m.keyId),
          keyName: str(m.keyName),
          ...(m.reason?.S === 'overwrite' ? { reason: 'overwrite' as const } : {}),
        },
      };

const enrolmentFromMap = (m: Item): Enrolment => ({
  ...(m.source?.S === 'import' ? { source: 'import' as const } : {}),
  ...originFromMap(m.origin?.M),
  ...(m.secretBytes?.N === undefined ? {} : { secretBytes: Number(m.secretBytes.N) }),
  id: str(m.id),
  sealedSecret: m.secret?.B ?? new Uint8Array(),
  algorithm: str(m.algorithm) as Enrolment['algorithm'],
  digits: num(m.digits) as Enrolment['digits'],
  period: num(m.period) ?? 30,
  issuer: str(m.issuer),
  accountName: str(m.accountName),
  createdAt: num(m.createdAt) ?? 0,
});

export function userFromItem(item: Item | undefined): UserRecord | undefined {
  if (!item) return undefined;
  const [, tenantId = '', userId = ''] = str(item.pk).split('#');
  const user: UserRecord = {
    tenantId,
    userId,
    recoveryHashes: item.recovery?.BS ?? [],
    // Stored as failedAttempts, the name it has always had on the item.
    lockFailures: num(item.failedAttempts) ?? 0,
    consecutiveFailures: num(item.consecutiveFailures) ?? 0,
  };
  const active = item.active?.M;
  if (active) user.active = { ...enrolmentFromMap(active), confirmedAt: num(active.confirmedAt) ?? 0 };
  const pending = item.pending?.M;
  if (pending) user.pending = { ...enrolmentFromMap(pending), expiresAt: num(pending.expiresAt) ?? 0 };
  const lastUsedStep = num(item.lastStep);
  if (lastUsedStep !== undefined) user.lastUsedStep = lastUsedStep;
  if (item.lastStepToken?.S) user.lastStepToken = item.lastStepToken.S;
  if (item.lastRecoveryToken?.S) user.lastRecoveryToken = item.lastRecoveryToken.S;
  if (item.lastFailureToken?.S) user.lastFailureToken = item.lastFailureToken.S;
  const lastVerifiedAt = num(item.lastVerifiedAt);
  if (lastVerifiedAt !== undefined) user.lastVerifiedAt = lastVerifiedAt;
  const lastFailureAt = num(item.failedAt);
  if (lastFailureAt !== undefined) user.lastFailureAt = lastFailureAt;
  if (item.lastRecoveryHash?.B) user.lastRecoveryHash = item.lastRecoveryHash.B;
  return user;
}

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
    settings: JSON.parse(str(item.settings)) as TenantSettings,
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
  if (!item) return undefined;
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
  return event;
}

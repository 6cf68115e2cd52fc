/**
 * The one table's key schema and its list index. serverless.yml declares the same
 * table for AWS; test/deploy/routes.test.ts checks the two agree.
 *
 * Items:
 * - `TENANT#<tenant>` / `TENANT`: settings, wrapped data key, admin key ids; in the
 *   tenantDirectory index under `TENANTS`, by tenant id.
 * - `TENANT#<tenant>` / `KEY#<id>`: an API key (hash only).
 * - `USER#<tenant>#<user>` / `USER`: one user's whole 2FA state. Its own partition,
 *   so one busy tenant never concentrates its verifies on one partition.
 * - `AUDIT#<tenant>#<user>` / `<ISO time>#<request>#<action>#<random>`: one user's audit
 *   events, newest last. Tenant-level events (settings, keys) are under `AUDIT#<tenant>`,
 *   a partition no user id can name (a user id is never empty). The auditByTenant index
 *   orders a tenant's events by time, spread over AUDIT_SHARDS partitions.
 * - `ENROL#<tenant>` / `META` and `NODE#...`: the tenant's enrolment counts
 *   (enrolmentItems.ts): totals, and the prefix-count trees over time.
 * A registered user without an authenticator is in the byEnrolment index under
 * `<tenant>#unenrolled` or `<tenant>#exempt`, by user id. A user whose change awaits
 * counting is in the tenantDirectory index under `COUNT#<tenant>`, by user id: one
 * index for both, since DynamoDB adds one index per table update.
 * - `REQUESTS#<tenant>` / `<slot>`: a request sent with an Idempotency-Key, and its
 *   answer, sealed (requestItems.ts); the operator's are under `REQUESTS`.
 * `#` cannot occur in a tenant or user id, so keys never collide.
 */
export const LIST_INDEX = 'byTenant';
export const AUDIT_INDEX = 'auditByTenant';
/** Every tenant, in tenant-id order: one partition, written only when a tenant changes. */
export const TENANT_INDEX = 'tenantDirectory';
export const TENANT_DIRECTORY = 'TENANTS';
/** Registered users without an authenticator, by group and user id (list filters). */
export const ENROLMENT_INDEX = 'byEnrolment';
export const enrolmentGroup = (tenantId: string, group: 'unenrolled' | 'exempt') => `${tenantId}#${group}`;
/** The tenantDirectory partition of a tenant's users whose change awaits counting. */
export const countingDirectory = (tenantId: string) => `COUNT#${tenantId}`;

export const tableDefinition = (tableName: string) => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST' as const,
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' as const },
    { AttributeName: 'sk', AttributeType: 'S' as const },
    { AttributeName: 'listTenant', AttributeType: 'S' as const },
    { AttributeName: 'listUser', AttributeType: 'S' as const },
    { AttributeName: 'auditTenant', AttributeType: 'S' as const },
    { AttributeName: 'auditAt', AttributeType: 'S' as const },
    { AttributeName: 'directory', AttributeType: 'S' as const },
    { AttributeName: 'directoryId', AttributeType: 'S' as const },
    { AttributeName: 'enrolGroup', AttributeType: 'S' as const },
    { AttributeName: 'enrolUser', AttributeType: 'S' as const },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' as const },
    { AttributeName: 'sk', KeyType: 'RANGE' as const },
  ],
  // Sparse: only enrolled users carry listTenant. Keys only, so that no attribute a
  // verify writes is projected and a verify never costs an index write.
  GlobalSecondaryIndexes: [
    {
      IndexName: LIST_INDEX,
      KeySchema: [
        { AttributeName: 'listTenant', KeyType: 'HASH' as const },
        { AttributeName: 'listUser', KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' as const },
    },
    // Audit events are small and written once: the index holds them whole.
    {
      IndexName: AUDIT_INDEX,
      KeySchema: [
        { AttributeName: 'auditTenant', KeyType: 'HASH' as const },
        { AttributeName: 'auditAt', KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    },
    // Tenants change rarely: the listing reads what it shows from the index alone.
    {
      IndexName: TENANT_INDEX,
      KeySchema: [
        { AttributeName: 'directory', KeyType: 'HASH' as const },
        { AttributeName: 'directoryId', KeyType: 'RANGE' as const },
      ],
      Projection: {
        ProjectionType: 'INCLUDE' as const,
        NonKeyAttributes: ['settings', 'createdAt', 'deletedAt'],
      },
    },
    // Sparse, keys only: written when a user is registered, enrols or is removed,
    // never by a verify.
    {
      IndexName: ENROLMENT_INDEX,
      KeySchema: [
        { AttributeName: 'enrolGroup', KeyType: 'HASH' as const },
        { AttributeName: 'enrolUser', KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' as const },
    },
  ],
});

/**
 * The key table: `TENANT#<tenant>` → the tenant's wrapped data key, and nothing else.
 * Deployed with no point-in-time recovery and no backup: deleting a tenant's item
 * here destroys the only copy of its key (crypto-shredding).
 */
export const keysTableDefinition = (tableName: string) => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST' as const,
  AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' as const }],
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' as const }],
});

export const tenantKey = (tenantId: string) => ({ pk: { S: `TENANT#${tenantId}` }, sk: { S: 'TENANT' } });
export const apiKeyKey = (tenantId: string, keyId: string) => ({
  pk: { S: `TENANT#${tenantId}` },
  sk: { S: `KEY#${keyId}` },
});
export const userKey = (tenantId: string, userId: string) => ({
  pk: { S: `USER#${tenantId}#${userId}` },
  sk: { S: 'USER' },
});

/**
 * Every verify writes an audit event into the tenant-wide index, and one partition
 * takes about 1,000 writes a second: keyed by tenant alone, the index would cap a
 * busy tenant's verifies there, and throttle the table's writes with it. So each
 * event goes to one of 16 shards, at random (not by request id, which the caller
 * chooses); a tenant-wide page reads them all and merges (dynamoStore.listAuditEvents).
 */
export const AUDIT_SHARDS = 16;
export const auditShard = (tenantId: string, shard: number) => `${tenantId}#${shard}`;
/**
 * The index partitions of a tenant's events: its shards, and the tenant id alone,
 * where events written before the shards (local data of earlier versions) are.
 */
export const auditIndexPartitions = (tenantId: string) => [
  tenantId,
  ...Array.from({ length: AUDIT_SHARDS }, (_, shard) => auditShard(tenantId, shard)),
];

/** The audit partition of one user, or of the tenant's own events when `userId` is undefined. */
export const auditPartition = (tenantId: string, userId: string | undefined) =>
  userId === undefined ? `AUDIT#${tenantId}` : `AUDIT#${tenantId}#${userId}`;

/**
 * A remembered request (lib/domain/idempotency.ts): `REQUESTS#<tenant>` for a tenant's
 * keys, `REQUESTS` for the operator (a partition no tenant id can name), by the
 * key's slot. One partition per tenant, so that its purge finds them.
 */
export const requestPartition = (tenantId: string | undefined) =>
  tenantId === undefined ? 'REQUESTS' : `REQUESTS#${tenantId}`;
export const requestKey = (tenantId: string | undefined, slot: string) => ({
  pk: { S: requestPartition(tenantId) },
  sk: { S: slot },
});

export const enrolmentMetaKey = (tenantId: string) => ({ pk: { S: `ENROL#${tenantId}` }, sk: { S: 'META' } });
export const enrolmentNodeKey = (tenantId: string, node: string) => ({
  pk: { S: `ENROL#${tenantId}` },
  sk: { S: `NODE#${node}` },
});

/** The TTL attribute (seconds): set on items that may vanish on their own. */
export const TTL_ATTRIBUTE = 'expiresAt';

/**
 * Sparse time-ordered index partitions (the due deliveries, the outboxes): a string's
 * shard out of `shards`, stable for the string, and a time as a sort key that orders
 * as text (15 digits of Unix ms).
 */
export const shardOf = (text: string, shards: number) =>
  [...text].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % shards;
export const timeSortKey = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(15, '0');

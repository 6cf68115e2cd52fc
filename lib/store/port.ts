import type { AuditEvent } from '../domain/audit.ts';
import type { EnrolmentTotals } from '../domain/enrolment.ts';
import type { FailureCounts, FailurePlan, LockoutSettings } from '../domain/lockout.ts';
import type { Authenticator, ClockSkew, PendingEnrolment, UserRecord } from '../domain/user.ts';
import type { ApiKeyRecord, TenantRecord } from '../domain/records.ts';
import type { DeliveryRecord, SecurityEvent, WebhookRecord } from '../domain/webhooks.ts';
import type { RequestMemory, StoredAnswer, VerifyMemory } from '../domain/idempotency.ts';

/** The records a request is authorised and served with (tenant, key, user): one round trip. */
export interface CallerRecords {
  tenant?: TenantRecord;
  key?: ApiKeyRecord;
  user?: UserRecord;
}

/** A conditional write either applied, or lost to another writer; then `current` may say why. */
export type WriteResult = { applied: true } | { applied: false; current?: UserRecord | undefined };

/** A counted failure answers with the counts it left, which say whether it locked. */
export type FailureWrite =
  { applied: true; counts: FailureCounts } | { applied: false; current?: UserRecord | undefined };

/**
 * The guess budget as of one request: the store admits an accepting write, or
 * counts a failure, only while no lock (or disable) is in force at `nowMs` under
 * the tenant's `lockout` (lib/domain/lockout.ts).
 */
export interface Admission {
  nowMs: number;
  lockout: LockoutSettings;
  /** A verify sent with an Idempotency-Key: its answer, kept on the item by the same write. */
  remember?: KeptVerify;
}

/**
 * A verify's answer to keep in its own write: under `slot`, unless the slot is taken
 * (the same key's other attempt got there first: the write then fails, and the
 * re-read holds that one's answer). `drop`: older slots removed in the same write.
 */
export interface KeptVerify {
  slot: string;
  memory: VerifyMemory;
  drop: string[];
}

/**
 * The storage port, one interface per aggregate. Every method that changes a user is
 * one conditional write, named after the rule it enforces; concurrency is decided by
 * the store. lib/store/dynamoStore.ts composes the DynamoDB modules into it.
 */
export interface Store
  extends
    TenantStore,
    KeyStore,
    UserStore,
    EnrolmentStore,
    AuditStore,
    WebhookStore,
    DeliveryStore,
    OutboxStore,
    RequestStore {
  /**
   * This store as one request uses it: no call starts once `signal` has aborted (it
   * throws a 503), and calls already in flight finish.
   */
  within(signal: AbortSignal): Store;

  /**
   * Local mode's start-up check, with the handlers' own client: resolves if the table
   * answers and has every index this code reads; otherwise throws an Error that says
   * what is wrong. Lambda never calls it.
   */
  checkReady(): Promise<void>;
}

/** Tenants: their items, wrapped data keys, and the records a request is authorised with. */
export interface TenantStore {
  loadContext(ids: { tenantId: string; keyId?: string; userId?: string }): Promise<CallerRecords>;

  /**
   * Stores a new tenant's wrapped data key in the key table, unless one is there
   * already (a creation that failed half-way): answers the one stored.
   */
  putDataKey(tenantId: string, wrapped: Uint8Array): Promise<Uint8Array>;
  /** Writes the tenant's item (its data key must be stored first); false if the id is taken. */
  createTenant(tenant: TenantRecord): Promise<boolean>;
  /** The tenant's item, without its data key (which only loadContext reads). */
  getTenant(tenantId: string): Promise<TenantRecord | undefined>;
  /** Tenants in tenant-id order after `afterTenantId`, deleted ones included; eventually consistent. */
  listTenants(
    afterTenantId: string | undefined,
    limit: number,
  ): Promise<{ tenants: TenantRecord[]; more: boolean }>;
  /**
   * Crypto-shredding: marks the tenant deleted, then deletes its wrapped data key from
   * the key table; false if there is no such tenant. A deleted tenant is shredded again.
   */
  shredTenant(tenantId: string, nowMs: number, reason: string): Promise<boolean>;
  /**
   * Deletes up to `max` items of a deleted tenant (users, audit events, keys). With
   * `finish`, when none is left, deletes the tenant's own item too: `done`.
   */
  purgeTenant(tenantId: string, max: number, finish: boolean): Promise<{ deleted: number; done: boolean }>;
  /** Replaces the settings if the revision is still `tenant.revision`; false if another change won. */
  saveSettings(
    tenant: TenantRecord,
    settings: TenantRecord['settings'],
    events?: readonly SecurityEvent[],
  ): Promise<boolean>;
}

/** A tenant's API keys (hashes only) and which of them are admin keys. */
export interface KeyStore {
  /** Writes a new key, with `events` in its outbox. */
  putKey(key: ApiKeyRecord, events?: readonly SecurityEvent[]): Promise<void>;
  /** Lets the key act as admin: adds it to the tenant's admin key ids (if the tenant is live). */
  grantAdmin(tenantId: string, keyId: string): Promise<boolean>;
  /**
   * Takes the key out of the admin key ids in one conditional write, unless it is the
   * last one there: so of two admins deleting each other's keys at once, one wins.
   */
  revokeAdmin(tenantId: string, keyId: string): Promise<'revoked' | 'last' | 'absent'>;
  /** For a tenant made before the admin key ids existed: sets them, once. */
  initAdminKeys(tenantId: string, keyIds: string[]): Promise<void>;
  listKeys(tenantId: string): Promise<ApiKeyRecord[]>;
  /** The key, or undefined. */
  getKey(tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined>;
  /**
   * Deletes the key; returns what it was, or undefined when there was none. With
   * `events`, what stays is an empty item holding them (expiring), until published.
   */
  deleteKey(
    tenantId: string,
    keyId: string,
    events?: readonly SecurityEvent[],
  ): Promise<ApiKeyRecord | undefined>;
}

/** Users: one item each, holding the whole 2FA state; imports write there too. */
export interface UserStore {
  getUser(tenantId: string, userId: string): Promise<UserRecord | undefined>;
  /** The users of `userIds` that exist, consistently read, in as few round trips as the store allows. */
  getUsers(tenantId: string, userIds: string[]): Promise<UserRecord[]>;
  /**
   * Makes `authenticator` the user's only one if the authenticators are still as
   * `user` was read, as a confirmed reconfigure would: no recovery codes, no used step,
   * the failure counts and the disable reset; a pending enrolment stays. The item is
   * created if there is none, and the user registered (enrolment.ts).
   */
  importAuthenticator(
    user: UserRecord,
    authenticator: Authenticator,
    nowMs: number,
    events?: readonly SecurityEvent[],
  ): Promise<WriteResult>;
  /**
   * Stores a pending enrolment if the authenticators are still as `user` was read (its
   * mode was judged against them). `expiresAtSeconds`: the item's TTL, for a user with
   * no authenticator, whose item then holds nothing but this setup.
   */
  savePending(
    user: UserRecord,
    pending: PendingEnrolment,
    expiresAtSeconds: number | null,
  ): Promise<WriteResult>;
  /**
   * Makes `user`'s pending enrolment active, if it is still the one read: the
   * authenticators become `next`, if they are still as `user` was read (the cap and a
   * replaced id were judged against them), and no timed lock is in force (nor, with `bindsDisable`, the disable). `recoveryHashes`
   * replace the recovery codes (a first enrolment or a reconfigure); undefined keeps
   * them. The used step becomes `stepStart`, which is no earlier than the one stored.
   */
  activate(
    user: UserRecord,
    next: Authenticator[],
    recoveryHashes: Uint8Array[] | undefined,
    stepStart: number,
    token: string,
    admission: Admission & { bindsDisable: boolean },
    events?: readonly SecurityEvent[],
  ): Promise<WriteResult>;
  /**
   * Accepts the time step that began at `stepStart` (Unix seconds), matched by
   * `authenticator`, if it is later than the last accepted one, the authenticator is
   * still there, and the budget admits it.
   */
  acceptStep(
    user: UserRecord,
    authenticator: Authenticator,
    stepStart: number,
    token: string,
    admission: Admission,
  ): Promise<WriteResult>;
  /** Spends one recovery code if it is still unspent and the budget admits it. */
  spendRecoveryCode(
    user: UserRecord,
    hash: Uint8Array,
    token: string,
    admission: Admission,
    events?: readonly SecurityEvent[],
  ): Promise<WriteResult>;
  /**
   * Counts a failed attempt, `plan.weight` failures (one per authenticator checked),
   * if the budget admits it (no lock in force; at verify, no disable); `token` marks
   * the write so a retried one can recognise itself. `clockSkew`: the hint for
   * support, when the code matched outside the window.
   */
  recordFailure(
    user: UserRecord,
    plan: FailurePlan,
    token: string,
    admission: Admission,
    clockSkew?: ClockSkew,
  ): Promise<FailureWrite>;
  replaceRecoveryCodes(
    user: UserRecord,
    hashes: Uint8Array[],
    events?: readonly SecurityEvent[],
  ): Promise<WriteResult>;
  /** The authenticators become `next` (a rename, a removal) if they are still as `user` was read. */
  replaceAuthenticators(
    user: UserRecord,
    next: Authenticator[],
    events?: readonly SecurityEvent[],
  ): Promise<WriteResult>;
  /**
   * Writes `events` with the mark that they were reported (`lock`, `disable`: the failure
   * time that set the limit; `replay`: the time step replayed), unless the mark holds
   * `value` or a later one already: once per lock, per disable, per replayed step. False then.
   */
  reportOnce(
    user: UserRecord,
    mark: 'lock' | 'disable' | 'replay',
    value: number,
    events: readonly SecurityEvent[],
  ): Promise<boolean>;
  /** Lifts the timed lock: the count toward it starts again; the count toward the disable stays. */
  unlock(user: UserRecord, events?: readonly SecurityEvent[]): Promise<boolean>;
  /**
   * Users the service knows (enrolled, pending or registered) in user-id order, after
   * `afterUserId`; with `group`, only registered users without an authenticator that
   * are (`exempt`) or are not (`unenrolled`) exempt.
   */
  listUsers(
    tenantId: string,
    afterUserId: string | undefined,
    limit: number,
    group?: 'unenrolled' | 'exempt',
  ): Promise<UserPage>;
}

/** A registration's changes: a field left undefined keeps its value. */
export interface Registering {
  /** The user's own due date, Unix seconds; null: the tenant's rule. */
  dueAt?: number | null;
  exempt?: boolean;
}

/** Registration and the tenant's enrolment counts (lib/store/enrolmentItems.ts). */
export interface EnrolmentStore {
  /**
   * Registers the user (the first time is kept), with `change` applied, if its
   * authenticators are still as `user` was read.
   */
  register(
    user: UserRecord,
    change: Registering,
    nowMs: number,
  ): Promise<{ applied: true; user: UserRecord } | Extract<WriteResult, { applied: false }>>;
  /**
   * Removes the user's authenticators, pending enrolment and recovery codes, if its
   * authenticators are still as `user` was read. A registered (or enrolled) user stays
   * registered, unenrolled from `nowMs`, unless `forget`; then nothing of it stays.
   */
  retireUser(
    user: UserRecord,
    forget: boolean,
    nowMs: number,
    events?: readonly SecurityEvent[],
  ): Promise<WriteResult>;
  /** A new tenant has nothing to count from before: its counts start complete. */
  startCounting(tenantId: string): Promise<void>;
  /**
   * Marks, up to `pages` pages at a time, users enrolled before counting existed;
   * true once every one of them is marked.
   */
  backfillCounting(tenantId: string, pages: number): Promise<boolean>;
  /**
   * Counts one batch of marked users, or finishes a stale fold; `more` while marked
   * users (or a stale fold) remain.
   */
  foldCounts(tenantId: string, nowMs: number): Promise<{ more: boolean }>;
  /**
   * The totals, and how many unenrolled users are at or before the overdue bounds
   * (enrolment.ts overdueBounds), counting what no fold has counted yet; `backlog`
   * when too many users await counting for one read.
   */
  readCounts(
    tenantId: string,
    bounds: { own: number; rule: number | undefined },
  ): Promise<{ totals: EnrolmentTotals; overdue: { own: number; rule: number } } | 'backlog'>;
}

/** The audit trail. */
export interface AuditStore {
  /** Writes an event once; one with an `eventId` already written is left as it is. */
  putAuditEvent(event: AuditEvent, expiresAtSeconds: number): Promise<void>;
  /** Events that each have an `eventId`, written in batches (again: the same event). */
  putAuditEventsOnce(events: { event: AuditEvent; expiresAtSeconds: number }[]): Promise<void>;
  /** Of events that each have an `eventId`, those not written yet (batched reads, no write). */
  unwrittenAuditEvents(events: AuditEvent[]): Promise<AuditEvent[]>;
  /** Newest first; one user's events, or the whole tenant's. */
  listAuditEvents(
    tenantId: string,
    userId: string | undefined,
    after: AuditPosition | undefined,
    limit: number,
  ): Promise<{ events: AuditEvent[]; next: AuditPosition | undefined }>;
}

/** Where an audit page ended: the store's key of its last event. */
export interface AuditPosition {
  pk: string;
  sk: string;
}

export interface UserPage {
  users: UserRecord[];
  /** The last user id the index returned (its item may have been removed since). */
  lastUserId: string | undefined;
  /** Whether the index holds users after the last one returned. */
  more: boolean;
}

/** A tenant's webhook endpoints (lib/store/webhookItems.ts). */
export interface WebhookStore {
  /** Oldest first. */
  listWebhooks(tenantId: string): Promise<WebhookRecord[]>;
  /** Claims a free slot for the endpoint; undefined when the tenant has MAX_WEBHOOKS. */
  addWebhook(webhook: Omit<WebhookRecord, 'slot'>): Promise<WebhookRecord | undefined>;
  /** Writes `next` if the endpoint is still at `readVersion`. */
  replaceWebhook(next: WebhookRecord, readVersion: number): Promise<boolean>;
  /** False when it was gone already. */
  deleteWebhook(webhook: WebhookRecord): Promise<boolean>;
}

/** The outcome of one attempt: done (`delivered`, `failed`), or a retry due at `retryAt`. */
export interface AttemptOutcome {
  at: number;
  status: 'delivered' | 'failed';
  responseStatus?: number;
  retryAt?: number;
}

/** Messages to webhook endpoints and their attempts (lib/store/deliveryItems.ts). */
export interface DeliveryStore {
  /** A new pending message, due at its `nextAttemptAt` (else at once); false if its id exists. */
  addDelivery(
    delivery: Pick<DeliveryRecord, 'tenantId' | 'webhookId' | 'messageId' | 'type' | 'body' | 'createdAt'> & {
      nextAttemptAt?: number;
    },
  ): Promise<boolean>;
  /** Pending messages due at `nowMs`, of every tenant, at most `limit`. */
  dueDeliveries(nowMs: number, limit: number): Promise<DeliveryRecord[]>;
  getDelivery(tenantId: string, webhookId: string, messageId: string): Promise<DeliveryRecord | undefined>;
  /** Newest first, before the message id `before`. */
  listDeliveries(
    tenantId: string,
    webhookId: string,
    before: string | undefined,
    limit: number,
  ): Promise<{ deliveries: DeliveryRecord[]; more: boolean }>;
  /** Takes the next attempt (as read) until `leaseUntil`; false if another dispatcher took it. */
  claimAttempt(delivery: DeliveryRecord, leaseUntil: number): Promise<boolean>;
  /** Leaves a pending message for later without an attempt (a paused endpoint). */
  deferDelivery(delivery: DeliveryRecord, until: number): Promise<boolean>;
  /** What the attempt claimed on `delivery` (as read before the claim) came to. */
  recordAttempt(delivery: DeliveryRecord, outcome: AttemptOutcome): Promise<boolean>;
  /** Due again now, with a fresh retry schedule. */
  redeliver(delivery: DeliveryRecord, nowMs: number): Promise<boolean>;
  /** Ends a pending message without an attempt (its endpoint deleted or disabled). */
  finishDelivery(delivery: DeliveryRecord, status: 'failed'): Promise<boolean>;
}

/** An item's key, as the store names it. */
export interface ItemRef {
  pk: { S: string };
  sk: { S: string };
}

/** The events that ride in changed items until published (lib/store/outboxItems.ts). */
export interface OutboxStore {
  /** The items events ride in: a user's, the tenant's, a key's. */
  userRef(tenantId: string, userId: string): ItemRef;
  tenantRef(tenantId: string): ItemRef;
  keyRef(tenantId: string, keyId: string): ItemRef;
  readOutbox(ref: ItemRef): Promise<SecurityEvent[]>;
  /** Empties the outbox if it still holds `count` events (none added since it was read). */
  clearOutbox(ref: ItemRef, count: number): Promise<boolean>;
  /** Items whose events were written before `writtenBefore` and are not yet published. */
  leftOutboxes(writtenBefore: number, limit: number): Promise<ItemRef[]>;
}

/** Whose requests a memory belongs to: a tenant's keys, or the operator. */
export type RequestScope = { tenantId: string } | 'operator';

/**
 * Requests sent with an Idempotency-Key (lib/domain/idempotency.ts): one item per
 * scope and key, in flight and then answered, expiring by TTL.
 */
export interface RequestStore {
  /**
   * Takes the key for a request in flight, if no live memory holds it (none, one
   * expired, or one in flight whose lease is over). Otherwise answers the memory that
   * holds it, which the caller judges (recall).
   */
  beginRequest(
    scope: RequestScope,
    slot: string,
    begun: { fingerprint: Uint8Array; token: string; nowMs: number },
  ): Promise<RequestMemory | undefined>;
  /** Keeps the answer of the request that holds the key under `token`; false if it no longer does. */
  finishRequest(scope: RequestScope, slot: string, token: string, answer: StoredAnswer): Promise<boolean>;
  /** Frees the key (the request failed: its retry is carried out), if `token` still holds it. */
  forgetRequest(scope: RequestScope, slot: string, token: string): Promise<void>;
}

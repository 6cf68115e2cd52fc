/**
 * Security events and the endpoints that receive them (docs/api.md, "Security
 * events"): the catalogue, an endpoint as the service keeps it, and the rules of the
 * retry schedule. Delivery itself is at the edge (lib/webhooks).
 */
export const EVENT_TYPES = [
  'tfa.user.enrolled',
  'tfa.user.removed',
  'tfa.authenticator.removed',
  'tfa.user.imported',
  'tfa.user.locked',
  'tfa.user.disabled',
  'tfa.user.unlocked',
  'tfa.recovery_code.used',
  'tfa.recovery_codes.regenerated',
  'tfa.verification.replayed',
  'tfa.settings.updated',
  'tfa.key.created',
  'tfa.key.deleted',
  'tfa.webhook.disabled',
  'tfa.webhook.test',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** At most this many endpoints per tenant. */
export const MAX_WEBHOOKS = 10;
/** After a rotation, the previous secret signs too for this long. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

export type WebhookStatus = 'active' | 'paused' | 'disabled';

/** A signing secret, sealed under the tenant's key; a rotated-out one signs until `until`. */
export interface SealedWebhookSecret {
  /** Which secret of the endpoint it is (its AAD names it). */
  n: number;
  sealed: Uint8Array;
  until?: number;
}

export interface WebhookRecord {
  tenantId: string;
  id: string;
  /** The endpoint's place among the tenant's MAX_WEBHOOKS: one conditional write claims it. */
  slot: number;
  url: string;
  /** Event types, or `*` for all. */
  events: string[];
  description: string;
  status: WebhookStatus;
  /** Newest first. */
  secrets: SealedWebhookSecret[];
  createdAt: number;
  updatedAt: number;
  /** Bumped by every change: a change applies only to the version it read. */
  version: number;
  /** Since when every delivery to it has failed; five days of that disable it. */
  failingSince?: number;
}

export const isEventType = (value: unknown): value is EventType =>
  typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);

/** Whether an endpoint subscribed to `type`. */
export const subscribes = (webhook: Pick<WebhookRecord, 'events'>, type: EventType) =>
  webhook.events.includes('*') || webhook.events.includes(type);

/** The secrets that sign a delivery at `nowMs`: the current one, and a rotated one within its overlap. */
export const signingSecrets = (webhook: Pick<WebhookRecord, 'secrets'>, nowMs: number) =>
  webhook.secrets.filter((secret) => secret.until === undefined || secret.until > nowMs);

/** What the API shows of an endpoint: never a secret. */
export const webhookView = (webhook: WebhookRecord) => ({
  id: webhook.id,
  url: webhook.url,
  events: webhook.events,
  description: webhook.description,
  status: webhook.status,
  createdAt: new Date(webhook.createdAt).toISOString(),
});

/**
 * Seconds before each retry of a failed delivery (about 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h, 10 h); after the last, the message is `failed`. Local mode may shorten them
 * (TFA_WEBHOOK_RETRY_SECONDS), for tests.
 */
export const RETRY_SECONDS = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];
/** Deliveries are listed for this long, then expire. */
export const DELIVERY_DAYS = 7;
/** An endpoint whose every delivery failed for this long is disabled. */
export const FAILING_DISABLES_MS = 5 * 86_400_000;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One message to one endpoint, and what became of it. */
export interface DeliveryRecord {
  tenantId: string;
  webhookId: string;
  /** The `webhook-id` of every attempt: a receiver drops duplicates by it. */
  messageId: string;
  type: EventType;
  /** The JSON body, made once: every attempt sends the same bytes. */
  body: string;
  createdAt: number;
  attempts: number;
  status: DeliveryStatus;
  /** While pending: when the next attempt is due (a claimed attempt pushes it past its lease). */
  nextAttemptAt?: number;
  lastAttemptAt?: number;
  responseStatus?: number;
  /** The attempt count where the current retry schedule started (a redelivery starts one afresh). */
  retriesFrom: number;
}

/** When the retry after `failedAttempts` failures of this schedule is due; undefined: no more. */
export function retryAt(
  failedAttempts: number,
  nowMs: number,
  schedule: readonly number[],
  random: () => number,
) {
  const seconds = schedule[failedAttempts - 1];
  if (seconds === undefined) return undefined;
  // ±10%, so that the retries of many messages failed at once do not arrive together.
  return nowMs + Math.round(seconds * 1000 * (0.9 + 0.2 * random()));
}

/** How long an endpoint's messages may wait (paused, or failing) before they are `failed`. */
export const retryHorizonMs = (schedule: readonly number[]) => schedule.reduce((n, s) => n + s, 0) * 1100;

/** The body of a delivery, per the contract: `{type, timestamp, data}`. */
export const eventBody = (type: EventType, data: Record<string, unknown>, atMs: number) =>
  JSON.stringify({ type, timestamp: new Date(atMs).toISOString(), data });

/** What the API shows of a delivery. */
export const deliveryView = (d: DeliveryRecord) => ({
  messageId: d.messageId,
  type: d.type,
  attempts: d.attempts,
  status: d.status,
  lastAttemptAt: d.lastAttemptAt === undefined ? null : new Date(d.lastAttemptAt).toISOString(),
  nextAttemptAt:
    d.status === 'pending' && d.nextAttemptAt !== undefined ? new Date(d.nextAttemptAt).toISOString() : null,
  responseStatus: d.responseStatus ?? null,
});

/**
 * A security event as it rides in the write that makes it true (the item's outbox),
 * until it is published to the endpoints: its id is the `webhook-id` of every message.
 */
export interface SecurityEvent {
  id: string;
  type: EventType;
  /** `tenantId`, `userId`, `actor`, `requestId`, `at`, and what the type adds; never a secret. */
  data: { tenantId: string; userId: string | null } & Record<string, unknown>;
  at: number;
}

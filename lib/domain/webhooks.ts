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

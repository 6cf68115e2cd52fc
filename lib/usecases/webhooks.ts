import { randomBytes } from 'node:crypto';
import { newWebhookSecret } from '../crypto/webhookSignature.ts';
import { sealWebhookSecret } from '../crypto/secrets.ts';
import {
  MAX_WEBHOOKS,
  ROTATION_OVERLAP_MS,
  type WebhookRecord,
  type WebhookStatus,
  deliveryView,
  webhookView,
} from '../domain/webhooks.ts';
import { invalidWebhookUrl, serviceUnavailable, tooManyWebhooks, webhookNotFound } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../crypto/cursors.ts';
import { queueEvent } from './events.ts';
import { vet } from '../webhooks/sender.ts';
import type { TenantContext } from './context.ts';

/** What a create or an update gives; the edge has checked each field's type and the events. */
export interface WebhookChange {
  url?: string;
  events?: string[];
  description?: string;
  status?: Extract<WebhookStatus, 'active' | 'paused'>;
}

export type NewWebhook = Omit<WebhookChange, 'status'> & { url: string; events: string[] };

/** The URL's rules, and where it resolves now: inside is refused (lib/webhooks/addresses.ts). */
async function checkUrl({ deps }: TenantContext, url: string) {
  const vetted = await vet(url, deps.outbound);
  if (!vetted.ok) throw invalidWebhookUrl(vetted.problem);
}

/** The tenant's endpoint `id`, or 404. */
async function findWebhook({ deps, tenant }: TenantContext, id: string | undefined): Promise<WebhookRecord> {
  const found = (await deps.store.listWebhooks(tenant.tenantId)).find((w) => w.id === id);
  if (!found) throw webhookNotFound();
  return found;
}

/** Names an endpoint in the audit trail: JSON, so no description can forge the text around it. */
const describeWebhook = (w: WebhookRecord) =>
  JSON.stringify({ webhookId: w.id, url: w.url, events: w.events });

/** POST /v1/webhooks: the secret is in this answer only; the store keeps it sealed under the tenant's key. */
export async function createWebhook(ctx: TenantContext, change: NewWebhook) {
  const { deps, tenant } = ctx;
  await checkUrl(ctx, change.url);
  const id = `wh_${randomBytes(12).toString('hex')}`;
  const secret = newWebhookSecret();
  const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  const now = deps.now();
  const added = await deps.store.addWebhook({
    tenantId: tenant.tenantId,
    id,
    url: change.url,
    events: change.events,
    description: change.description ?? '',
    status: 'active',
    secrets: [
      { n: 0, sealed: sealWebhookSecret(keys, { tenantId: tenant.tenantId, webhookId: id, n: 0 }, secret) },
    ],
    createdAt: now,
    updatedAt: now,
    version: 0,
  });
  if (!added) throw tooManyWebhooks(MAX_WEBHOOKS);
  await ctx.audit({ action: 'webhook_create', outcome: 'success', reason: describeWebhook(added) });
  return { ...webhookView(added), secret };
}

export async function listWebhooks({ deps, tenant }: TenantContext) {
  return { webhooks: (await deps.store.listWebhooks(tenant.tenantId)).map(webhookView) };
}

export async function showWebhook(ctx: TenantContext, id: string | undefined) {
  return webhookView(await findWebhook(ctx, id));
}

/**
 * Applies `next` to the endpoint as it was read, reading again if another change came
 * between: each change is whole, and none is lost.
 */
async function changeWebhook(
  ctx: TenantContext,
  id: string | undefined,
  next: (current: WebhookRecord) => WebhookRecord,
): Promise<WebhookRecord> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await findWebhook(ctx, id);
    const changed = { ...next(current), updatedAt: ctx.deps.now(), version: current.version + 1 };
    if (await ctx.deps.store.replaceWebhook(changed, current.version)) return changed;
  }
  // Busy beyond reason: the caller may send the change again.
  throw serviceUnavailable('the webhook endpoint, changed by other requests meanwhile,');
}

/** PATCH /v1/webhooks/{id}: url, events, description, or status (active, paused). */
export async function updateWebhook(ctx: TenantContext, id: string | undefined, change: WebhookChange) {
  if (change.url !== undefined) await checkUrl(ctx, change.url);
  const updated = await changeWebhook(ctx, id, (current) => ({
    ...current,
    ...(change.url === undefined ? {} : { url: change.url }),
    ...(change.events === undefined ? {} : { events: change.events }),
    ...(change.description === undefined ? {} : { description: change.description }),
    ...(change.status === undefined ? {} : { status: change.status }),
  }));
  await ctx.audit({ action: 'webhook_update', outcome: 'success', reason: describeWebhook(updated) });
  return webhookView(updated);
}

/** DELETE /v1/webhooks/{id}: nothing more is sent to it. */
export async function deleteWebhook(ctx: TenantContext, id: string | undefined) {
  const found = await findWebhook(ctx, id);
  if (!(await ctx.deps.store.deleteWebhook(found))) throw webhookNotFound();
  await ctx.audit({ action: 'webhook_delete', outcome: 'success', reason: describeWebhook(found) });
}

/**
 * POST /v1/webhooks/{id}/rotate-secret: a new secret signs from now on; the one it
 * replaces signs beside it for 24 hours, then is dropped. Older ones go at once.
 */
export async function rotateWebhookSecret(ctx: TenantContext, id: string | undefined) {
  const { deps, tenant } = ctx;
  const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  const secret = newWebhookSecret();
  const rotated = await changeWebhook(ctx, id, (current) => {
    const now = deps.now();
    const [newest] = current.secrets;
    const n = (newest?.n ?? -1) + 1;
    return {
      ...current,
      secrets: [
        {
          n,
          sealed: sealWebhookSecret(keys, { tenantId: tenant.tenantId, webhookId: current.id, n }, secret),
        },
        ...(newest ? [{ ...newest, until: now + ROTATION_OVERLAP_MS }] : []),
      ],
    };
  });
  await ctx.audit({ action: 'webhook_rotate', outcome: 'success', reason: describeWebhook(rotated) });
  return { secret };
}

/** POST /v1/webhooks/{id}/test: a `tfa.webhook.test` event to that endpoint alone. */
export async function testWebhook(ctx: TenantContext, id: string | undefined) {
  const { deps, tenant } = ctx;
  const webhook = await findWebhook(ctx, id);
  const at = deps.now();
  const data = {
    tenantId: tenant.tenantId,
    userId: null,
    actor: ctx.actor,
    requestId: ctx.requestId,
    at: new Date(at).toISOString(),
    webhookId: webhook.id,
  };
  // To this endpoint whatever its events, and even paused (it gets it when resumed);
  // a disabled one is sent nothing (its message is listed as failed).
  const { messageId } = await queueEvent(
    deps,
    tenant.tenantId,
    [{ ...webhook, events: ['*'], status: 'active' }],
    'tfa.webhook.test',
    data,
    at,
  );
  return { messageId };
}

const DELIVERY_LIST = 'deliveries';

/** GET /v1/webhooks/{id}/deliveries: newest first, kept 7 days. */
export async function listDeliveries(
  ctx: TenantContext,
  id: string | undefined,
  query: { limit: number; cursor: string | undefined },
) {
  const { deps, tenant } = ctx;
  const webhook = await findWebhook(ctx, id);
  const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  const list = `${DELIVERY_LIST}:${webhook.id}`;
  const before =
    query.cursor === undefined ? undefined : decodeCursor(keys.cursors, tenant.tenantId, list, query.cursor);
  const page = await deps.store.listDeliveries(tenant.tenantId, webhook.id, before, query.limit);
  const last = page.deliveries.at(-1)?.messageId;
  return {
    deliveries: page.deliveries.map(deliveryView),
    nextCursor:
      page.more && last !== undefined ? encodeCursor(keys.cursors, tenant.tenantId, list, last) : null,
  };
}

/** POST /v1/webhooks/{id}/deliveries/{messageId}/redeliver: the same message, sent again now. */
export async function redeliver(ctx: TenantContext, id: string | undefined, messageId: string | undefined) {
  const { deps, tenant } = ctx;
  const webhook = await findWebhook(ctx, id);
  const delivery =
    messageId === undefined
      ? undefined
      : await deps.store.getDelivery(tenant.tenantId, webhook.id, messageId);
  if (!delivery) throw webhookNotFound('no such message to this endpoint (deliveries are kept 7 days)');
  await deps.store.redeliver(delivery, deps.now());
  return { messageId: delivery.messageId };
}

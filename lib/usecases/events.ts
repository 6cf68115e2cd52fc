import { randomBytes } from 'node:crypto';
import {
  type EventType,
  eventBody,
  type SecurityEvent,
  subscribes,
  type WebhookRecord,
} from '../domain/webhooks.ts';
import { logger } from '../observability/logger.ts';
import type { ItemRef } from '../store/port.ts';
import type { TenantContext } from './context.ts';
import type { Deps } from '../deps.ts';

/**
 * Security events (docs/api.md, "Security events"): made by the use case that causes
 * one, written into the outbox of the item its change writes (the store's `events`
 * parameters), then published here. Never a secret, a code or a key in `data`.
 */
export function securityEvent(
  ctx: TenantContext,
  type: EventType,
  userId: string | null,
  extra: Record<string, unknown> = {},
): SecurityEvent {
  const at = ctx.deps.now();
  return {
    id: newMessageId(at),
    type,
    at,
    data: {
      tenantId: ctx.tenant.tenantId,
      userId,
      actor: ctx.actor,
      requestId: ctx.requestId,
      at: new Date(at).toISOString(),
      ...extra,
    },
  };
}

/** The tenant's endpoints, read once in a request. */
const endpointsOf = (ctx: TenantContext) =>
  (ctx.endpoints ??= ctx.deps.store.listWebhooks(ctx.tenant.tenantId));

/**
 * Of `events`, those that an endpoint of the tenant wants (active or paused; a disabled
 * one is sent nothing): only they are written. A change of a tenant with no endpoint
 * costs one query and no write for its events; an endpoint gets the events of the
 * changes made once it exists.
 */
export async function wanted(ctx: TenantContext, events: SecurityEvent[]): Promise<SecurityEvent[]> {
  const endpoints = await endpointsOf(ctx);
  return events.filter((event) =>
    endpoints.some((w) => w.status !== 'disabled' && subscribes(w, event.type)),
  );
}

/**
 * Right after the write that committed `events` into the item `ref`: a message per
 * event to each endpoint that wants it, then the outbox cleared. A failure here is
 * logged, never answered: the change is done, and a dispatcher run publishes what is
 * left in the outbox.
 */
export async function publishEvents(ctx: TenantContext, ref: ItemRef, events: readonly SecurityEvent[]) {
  if (events.length === 0) return;
  const { deps } = ctx;
  try {
    const endpoints = await endpointsOf(ctx);
    for (const event of events) {
      await queueEvent(deps, ctx.tenant.tenantId, endpoints, event.type, event.data, event.at, event.id);
    }
    // Only if no other request added an event since this one's write; else a run sweeps it.
    await deps.store.clearOutbox(ref, events.length);
  } catch (error) {
    logger().warn('security events: publishing failed; the dispatcher publishes them', { error });
  }
}

/** What a dispatcher run publishes: events of any tenants, each tenant's endpoints read once. */
async function publish(deps: Deps, events: readonly SecurityEvent[]) {
  const endpoints = new Map<string, Promise<WebhookRecord[]>>();
  for (const event of events) {
    const { tenantId } = event.data;
    let found = endpoints.get(tenantId);
    if (!found) {
      found = deps.store.listWebhooks(tenantId);
      endpoints.set(tenantId, found);
    }
    await queueEvent(deps, tenantId, await found, event.type, event.data, event.at, event.id);
  }
}

/**
 * What requests left in outboxes (a process that died after its change, a publish
 * that failed): published by the dispatcher's runs, once older than `graceMs`.
 */
export async function sweepOutboxes(deps: Deps, graceMs: number, limit = 25): Promise<number> {
  const refs = await deps.store.leftOutboxes(deps.now() - graceMs, limit);
  for (const ref of refs) {
    const events = await deps.store.readOutbox(ref);
    await publish(deps, events);
    await deps.store.clearOutbox(ref, events.length);
  }
  return refs.length;
}

/** A new message id: sortable by time (deliveries list newest first), unguessable. */
export const newMessageId = (nowMs: number) =>
  `msg_${nowMs.toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;

/** Queues one message of `type` to each of `webhooks` that subscribed to it and is not disabled. */
export async function queueEvent(
  deps: Deps,
  tenantId: string,
  webhooks: WebhookRecord[],
  type: EventType,
  data: Record<string, unknown>,
  atMs: number,
  messageId = newMessageId(atMs),
) {
  const body = eventBody(type, data, atMs);
  const to = webhooks.filter((w) => w.status !== 'disabled' && subscribes(w, type));
  await Promise.all(
    to.map((w) =>
      deps.store.addDelivery({ tenantId, webhookId: w.id, messageId, type, body, createdAt: atMs }),
    ),
  );
  return { messageId, endpoints: to.length };
}

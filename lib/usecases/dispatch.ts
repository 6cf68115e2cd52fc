import { createHash } from 'node:crypto';
import { deliveryHeaders } from '../crypto/webhookSignature.ts';
import { openWebhookSecret } from '../crypto/secrets.ts';
import type { TenantRecord } from '../domain/records.ts';
import {
  type DeliveryRecord,
  FAILING_DISABLES_MS,
  retryAt,
  retryHorizonMs,
  signingSecrets,
  type WebhookRecord,
} from '../domain/webhooks.ts';
import type { Deps } from '../deps.ts';
import { logger } from '../observability/logger.ts';
import { send } from '../webhooks/sender.ts';
import { queueEvent, sweepOutboxes } from './events.ts';

/**
 * The one dispatcher of webhook deliveries: it takes what is due (of every tenant),
 * claims each attempt under a lease, signs and sends it, and records the outcome and
 * the next attempt. In AWS a schedule runs it; in local mode a poller does. An attempt
 * cut by a crash is due again when its lease ends: at least once, the same
 * `webhook-id` every time.
 */
// Longer than an attempt may take: the send's 15 s, and time to sign and record it.
const LEASE_MS = 20_000;
/** How often a paused endpoint's messages are looked at again: 30 s, or sooner on a short local schedule. */
const pausedRecheckMs = (schedule: readonly number[]) => Math.min(30_000, (schedule[0] ?? 5) * 6000);

/** Sends what is due now, at most `limit` messages; answers how many it handled. */
export async function dispatchDue(deps: Deps, limit = 25): Promise<number> {
  // First what requests left unpublished: their messages are then due too.
  const swept = await sweepOutboxes(deps, outboxGraceMs(deps.webhookRetrySeconds), limit).catch(
    (error: unknown) => {
      logger().warn('security events: a sweep of the outboxes failed', { error });
      return 0;
    },
  );
  const due = await deps.store.dueDeliveries(deps.now(), limit);
  const tenants = new Map<string, Promise<{ tenant?: TenantRecord; webhooks: WebhookRecord[] }>>();
  const tenantOf = (tenantId: string) => {
    let found = tenants.get(tenantId);
    if (!found) {
      found = (async () => ({
        tenant: (await deps.store.loadContext({ tenantId })).tenant,
        webhooks: await deps.store.listWebhooks(tenantId),
      }))();
      tenants.set(tenantId, found);
    }
    return found;
  };
  await Promise.all(
    due.map((delivery) =>
      deliver(deps, delivery, tenantOf).catch((error: unknown) =>
        // The attempt stays claimed: it is due again when its lease ends.
        logger().warn('webhook delivery: an attempt failed to run', { error, messageId: delivery.messageId }),
      ),
    ),
  );
  return Math.max(swept, due.length);
}

/** How long a request has to publish its own events before a run does: 10 s, less on a short local schedule. */
const outboxGraceMs = (schedule: readonly number[]) => Math.min(10_000, (schedule[0] ?? 5) * 2000);

async function deliver(
  deps: Deps,
  delivery: DeliveryRecord,
  tenantOf: (tenantId: string) => Promise<{ tenant?: TenantRecord; webhooks: WebhookRecord[] }>,
) {
  const { tenant, webhooks } = await tenantOf(delivery.tenantId);
  const webhook = webhooks.find((w) => w.id === delivery.webhookId);
  const now = deps.now();
  // A deleted tenant or endpoint, or a disabled one: nothing more is sent to it.
  if (!tenant || tenant.deletedAt !== undefined || !webhook || webhook.status === 'disabled') {
    await deps.store.finishDelivery(delivery, 'failed');
    return;
  }
  const horizonPassed = now > delivery.createdAt + retryHorizonMs(deps.webhookRetrySeconds);
  if (webhook.status === 'paused') {
    // Kept for when it is resumed, up to the retry horizon.
    if (horizonPassed) await deps.store.finishDelivery(delivery, 'failed');
    else await deps.store.deferDelivery(delivery, now + pausedRecheckMs(deps.webhookRetrySeconds));
    return;
  }
  if (!(await deps.store.claimAttempt(delivery, now + LEASE_MS))) return;

  const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  const secrets = signingSecrets(webhook, now).map((s) =>
    openWebhookSecret(keys, { tenantId: tenant.tenantId, webhookId: webhook.id, n: s.n }, s.sealed),
  );
  const headers = deliveryHeaders(secrets, delivery.messageId, Math.floor(now / 1000), delivery.body);
  const result = await send(webhook.url, headers, delivery.body, deps.outbound);
  const at = deps.now();
  if (result.delivered) {
    await deps.store.recordAttempt(delivery, { at, status: 'delivered', responseStatus: result.status });
    if (webhook.failingSince !== undefined) await changeEndpoint(deps, webhook, { failingSince: undefined });
    return;
  }
  const failed = delivery.attempts + 1 - delivery.retriesFrom;
  const next = result.gone ? undefined : retryAt(failed, at, deps.webhookRetrySeconds, Math.random);
  // Every attempt used: a panel is missing an event (the deployed stack's alarm).
  if (next === undefined) deps.counters.count('WebhookFailed');
  await deps.store.recordAttempt(delivery, {
    at,
    status: 'failed',
    ...(result.status === null ? {} : { responseStatus: result.status }),
    ...(next === undefined ? {} : { retryAt: next }),
  });
  const failingSince = webhook.failingSince ?? at;
  if (result.gone || at - failingSince >= FAILING_DISABLES_MS) {
    await disableEndpoint(
      deps,
      tenant,
      webhooks,
      webhook,
      result.gone ? 'answered 410' : 'failing for 5 days',
    );
  } else if (webhook.failingSince === undefined) {
    await changeEndpoint(deps, webhook, { failingSince: at });
  }
}

/** One conditional change of an endpoint as read; a lost race is left to the next attempt. */
async function changeEndpoint(deps: Deps, webhook: WebhookRecord, change: Partial<WebhookRecord>) {
  const next = { ...webhook, ...change, updatedAt: deps.now(), version: webhook.version + 1 };
  if (change.failingSince === undefined && Object.hasOwn(change, 'failingSince')) delete next.failingSince;
  const applied = await deps.store.replaceWebhook(next, webhook.version);
  if (applied) Object.assign(webhook, next);
  return applied;
}

/**
 * A `410`, or five days of failures: the endpoint is disabled, and the tenant's other
 * endpoints that want it get `tfa.webhook.disabled`. The message is queued first, under
 * an id fixed by the endpoint's version, then the endpoint is disabled: a crash between
 * the two leaves it enabled, and the next failure that disables it queues the same
 * message again (a no-op), so the event is neither lost nor doubled.
 */
async function disableEndpoint(
  deps: Deps,
  tenant: TenantRecord,
  webhooks: WebhookRecord[],
  webhook: WebhookRecord,
  why: string,
) {
  const at = deps.now();
  const data = {
    tenantId: tenant.tenantId,
    userId: null,
    actor: { keyId: 'service', name: 'webhook dispatcher' },
    requestId: `dispatch-${webhook.id}`,
    at: new Date(at).toISOString(),
    webhookId: webhook.id,
    url: webhook.url,
  };
  const messageId = `msg_${webhook.updatedAt.toString(36).padStart(9, '0')}${createHash('sha256')
    .update(`${webhook.id}:${webhook.version}:disabled`)
    .digest('hex')
    .slice(0, 16)}`;
  await queueEvent(
    deps,
    tenant.tenantId,
    webhooks.filter((w) => w.id !== webhook.id),
    'tfa.webhook.disabled',
    data,
    at,
    messageId,
  );
  if (await changeEndpoint(deps, webhook, { status: 'disabled', failingSince: undefined })) {
    logger().info('webhook endpoint disabled', { webhookId: webhook.id, why });
    deps.counters.count('WebhookFailed');
  }
}

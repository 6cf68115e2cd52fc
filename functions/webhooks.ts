import { api, tenantRoute } from '../lib/http/api.ts';
import { newWebhookBody, none, pageQuery, webhookBody } from '../lib/http/inputs.ts';
import { accepted, created, noContent, ok } from '../lib/http/respond.ts';
import {
  createWebhook,
  deleteWebhook,
  listDeliveries,
  listWebhooks,
  redeliver,
  rotateWebhookSecret,
  showWebhook,
  testWebhook,
  updateWebhook,
} from '../lib/usecases/webhooks.ts';

/** The tenant's security-event endpoints (docs/api.md, "Security events"). */
export const handler = api({
  'POST /v1/webhooks': tenantRoute(
    ['admin'],
    { body: newWebhookBody, query: none },
    async ({ body }, context) => created(await createWebhook(context, body)),
  ),
  'GET /v1/webhooks': tenantRoute(['admin'], { body: none, query: none }, async (_request, context) =>
    ok(await listWebhooks(context)),
  ),
  'GET /v1/webhooks/{id}': tenantRoute(['admin'], { body: none, query: none }, async ({ params }, context) =>
    ok(await showWebhook(context, params.id)),
  ),
  'PATCH /v1/webhooks/{id}': tenantRoute(
    ['admin'],
    { body: webhookBody, query: none },
    async ({ params, body }, context) => ok(await updateWebhook(context, params.id, body)),
  ),
  'DELETE /v1/webhooks/{id}': tenantRoute(
    ['admin'],
    { body: none, query: none },
    async ({ params }, context) => {
      await deleteWebhook(context, params.id);
      return noContent();
    },
  ),
  'POST /v1/webhooks/{id}/rotate-secret': tenantRoute(
    ['admin'],
    { body: none, query: none },
    async ({ params }, context) => ok(await rotateWebhookSecret(context, params.id)),
  ),
  'POST /v1/webhooks/{id}/test': tenantRoute(
    ['admin'],
    { body: none, query: none },
    async ({ params }, context) => accepted(await testWebhook(context, params.id)),
  ),
  'GET /v1/webhooks/{id}/deliveries': tenantRoute(
    ['admin'],
    { body: none, query: pageQuery },
    async ({ params, query }, context) => ok(await listDeliveries(context, params.id, query)),
  ),
  'POST /v1/webhooks/{id}/deliveries/{messageId}/redeliver': tenantRoute(
    ['admin'],
    { body: none, query: none },
    async ({ params }, context) => accepted(await redeliver(context, params.id, params.messageId)),
  ),
});

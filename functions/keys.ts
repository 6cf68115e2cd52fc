import { createKey, deleteKey, listKeys } from '../lib/apiKeys.ts';
import { api, tenantRoute } from '../lib/http/api.ts';
import { created, noContent, ok } from '../lib/http/respond.ts';

export const handler = api({
  'POST /v1/keys': tenantRoute(['admin'], async ({ body }, context) =>
    created(await createKey(context, body)),
  ),
  'GET /v1/keys': tenantRoute(['admin'], async (_request, context) => ok(await listKeys(context))),
  'DELETE /v1/keys/{id}': tenantRoute(['admin'], async ({ params }, context) => {
    await deleteKey(context, params.id);
    return noContent();
  }),
});

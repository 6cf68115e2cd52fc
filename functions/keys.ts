import { api, tenantRoute } from '../lib/http/api.ts';
import { keyBody, none } from '../lib/http/inputs.ts';
import { created, noContent, ok } from '../lib/http/respond.ts';
import { createKey, deleteKey, listKeys } from '../lib/usecases/keys.ts';

export const handler = api({
  'POST /v1/keys': tenantRoute(['admin'], { body: keyBody, query: none }, async ({ body }, context) =>
    created(await createKey(context, body)),
  ),
  'GET /v1/keys': tenantRoute(['admin'], { body: none, query: none }, async (_request, context) =>
    ok(await listKeys(context)),
  ),
  'DELETE /v1/keys/{id}': tenantRoute(['admin'], { body: none, query: none }, async ({ params }, context) => {
    await deleteKey(context, params.id);
    return noContent();
  }),
});

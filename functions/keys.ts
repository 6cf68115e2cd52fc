import { createKey, deleteKey, listKeys } from '../lib/apiKeys.ts';
import { api, tenantRoute } from '../lib/http/api.ts';
import { created, noContent, ok } from '../lib/http/respond.ts';

export const handler = api({
  'POST /v1/keys': tenantRoute(['admin'], async ({ caller, body }, deps) =>
    created(await createKey(deps, caller.tenant.tenantId, body)),
  ),
  'GET /v1/keys': tenantRoute(['admin'], async ({ caller }, deps) =>
    ok(await listKeys(deps, caller.tenant.tenantId)),
  ),
  'DELETE /v1/keys/{id}': tenantRoute(['admin'], async ({ caller, params }, deps) => {
    await deleteKey(deps, caller.tenant.tenantId, params.id);
    return noContent();
  }),
});

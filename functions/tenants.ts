import { api, operatorRoute } from '../lib/http/api.ts';
import { deletionBody, keyBody, none, tenantBody, tenantListQuery } from '../lib/http/inputs.ts';
import { created, ok } from '../lib/http/respond.ts';
import {
  createOperatorKey,
  createTenant,
  deleteTenant,
  getTenant,
  listTenants,
} from '../lib/usecases/tenants.ts';

export const handler = api({
  'POST /v1/tenants': operatorRoute({ body: tenantBody, query: none }, async ({ body }, deps) =>
    created(await createTenant(deps, body)),
  ),
  'GET /v1/tenants': operatorRoute({ body: none, query: tenantListQuery }, async ({ query }, deps) =>
    ok(await listTenants(deps, query)),
  ),
  'GET /v1/tenants/{tenantId}': operatorRoute({ body: none, query: none }, async ({ params }, deps) =>
    ok(await getTenant(deps, params.tenantId)),
  ),
  'DELETE /v1/tenants/{tenantId}': operatorRoute(
    { body: deletionBody, query: none },
    async ({ params, body, requestId }, deps) =>
      ok(await deleteTenant(deps, params.tenantId, body.reason, requestId)),
  ),
  'POST /v1/tenants/{tenantId}/keys': operatorRoute(
    { body: keyBody, query: none },
    async ({ params, body, requestId }, deps) =>
      created(await createOperatorKey(deps, params.tenantId, body, requestId)),
  ),
});

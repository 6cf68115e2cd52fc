import { api, operatorRoute } from '../lib/http/api.ts';
import { none, tenantBody } from '../lib/http/inputs.ts';
import { created, ok } from '../lib/http/respond.ts';
import { createTenant, getTenant } from '../lib/usecases/tenants.ts';

export const handler = api({
  'POST /v1/tenants': operatorRoute({ body: tenantBody, query: none }, async ({ body }, deps) =>
    created(await createTenant(deps, body)),
  ),
  'GET /v1/tenants/{tenantId}': operatorRoute({ body: none, query: none }, async ({ params }, deps) =>
    ok(await getTenant(deps, params.tenantId)),
  ),
});

import { api, operatorRoute } from '../lib/http/api.ts';
import { created, ok } from '../lib/http/respond.ts';
import { createTenant, getTenant } from '../lib/tenants.ts';

export const handler = api({
  'POST /v1/tenants': operatorRoute(async ({ body }, deps) => created(await createTenant(deps, body))),
  'GET /v1/tenants/{tenantId}': operatorRoute(async ({ params }, deps) =>
    ok(await getTenant(deps, params.tenantId)),
  ),
});

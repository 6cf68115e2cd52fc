import { api, tenantRoute } from '../lib/http/api.ts';
import { ok } from '../lib/http/respond.ts';
import { listUsers } from '../lib/userAdmin.ts';

export const handler = api({
  'GET /v1/users': tenantRoute(['support'], async ({ caller, query }, deps) =>
    ok(await listUsers(deps, caller.tenant, query)),
  ),
});

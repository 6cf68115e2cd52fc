import { api, tenantRoute } from '../lib/http/api.ts';
import { ok } from '../lib/http/respond.ts';
import { listUsers } from '../lib/userAdmin.ts';

export const handler = api({
  'GET /v1/users': tenantRoute(['support'], async ({ query }, context) =>
    ok(await listUsers(context, query)),
  ),
});

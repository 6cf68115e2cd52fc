import { api, tenantRoute } from '../lib/http/api.ts';
import { listQuery, none } from '../lib/http/inputs.ts';
import { ok } from '../lib/http/respond.ts';
import { listUsers } from '../lib/usecases/list.ts';

export const handler = api({
  'GET /v1/users': tenantRoute(['support'], { body: none, query: listQuery }, async ({ query }, context) =>
    ok(await listUsers(context, query)),
  ),
});

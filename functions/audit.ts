import { listAudit } from '../lib/audit.ts';
import { api, tenantRoute } from '../lib/http/api.ts';
import { ok } from '../lib/http/respond.ts';

export const handler = api({
  'GET /v1/audit': tenantRoute(['support'], async ({ query }, context) =>
    ok(await listAudit(context, query)),
  ),
});

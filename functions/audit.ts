import { api, tenantRoute } from '../lib/http/api.ts';
import { auditQuery, none } from '../lib/http/inputs.ts';
import { ok } from '../lib/http/respond.ts';
import { listAudit } from '../lib/usecases/audit.ts';

export const handler = api({
  'GET /v1/audit': tenantRoute(['support'], { body: none, query: auditQuery }, async ({ query }, context) =>
    ok(await listAudit(context, query)),
  ),
});

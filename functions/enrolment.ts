import { api, tenantRoute } from '../lib/http/api.ts';
import { none } from '../lib/http/inputs.ts';
import { ok } from '../lib/http/respond.ts';
import { enrolmentReport } from '../lib/usecases/enrolment.ts';

export const handler = api({
  'GET /v1/enrolment': tenantRoute(['support'], { body: none, query: none }, async (_request, context) =>
    ok(await enrolmentReport(context)),
  ),
});

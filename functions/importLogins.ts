import { api, tenantRoute } from '../lib/http/api.ts';
import { importBody, importRequest, none } from '../lib/http/inputs.ts';
import { MAX_IMPORT_BODY_BYTES } from '../lib/http/jsonBody.ts';
import { ok } from '../lib/http/respond.ts';
import { importLogins } from '../lib/usecases/importLogins.ts';

export const handler = api({
  'POST /v1/import/{format}': tenantRoute(
    ['admin'],
    { body: importBody, query: none, maxBodyBytes: MAX_IMPORT_BODY_BYTES },
    async ({ body, params }, context) => ok(await importLogins(context, importRequest(params.format, body))),
  ),
});

import { api, tenantRoute } from '../lib/http/api.ts';
import { importBody, none } from '../lib/http/inputs.ts';
import { MAX_IMPORT_BODY_BYTES } from '../lib/http/jsonBody.ts';
import { ok } from '../lib/http/respond.ts';
import { importCpanel } from '../lib/usecases/importCpanel.ts';

export const handler = api({
  'POST /v1/import/cpanel': tenantRoute(
    ['admin'],
    { body: importBody, query: none, maxBodyBytes: MAX_IMPORT_BODY_BYTES },
    async ({ body }, context) => ok(await importCpanel(context, body)),
  ),
});

import { api, tenantRoute } from '../lib/http/api.ts';
import { none, settingsBody } from '../lib/http/inputs.ts';
import { ok } from '../lib/http/respond.ts';
import { patchSettings, settingsView } from '../lib/usecases/settings.ts';

export const handler = api({
  'GET /v1/settings': tenantRoute(['admin'], { body: none, query: none }, async ({ caller }) =>
    ok(settingsView(caller.tenant)),
  ),
  'PATCH /v1/settings': tenantRoute(
    ['admin'],
    { body: settingsBody, query: none },
    async ({ body }, context) => ok(await patchSettings(context, body)),
  ),
});

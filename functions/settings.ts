import { api, tenantRoute } from '../lib/http/api.ts';
import { ok } from '../lib/http/respond.ts';
import { patchSettings, settingsView } from '../lib/tenants.ts';

export const handler = api({
  'GET /v1/settings': tenantRoute(['admin'], async ({ caller }) => ok(settingsView(caller.tenant))),
  'PATCH /v1/settings': tenantRoute(['admin'], async ({ body }, context) =>
    ok(await patchSettings(context, body)),
  ),
});

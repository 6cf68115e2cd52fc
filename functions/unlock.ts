import { api, userRoute } from '../lib/http/api.ts';
import { ok } from '../lib/http/respond.ts';
import { unlockUser } from '../lib/userAdmin.ts';

export const handler = api({
  'POST /v1/users/{userId}/unlock': userRoute(['support'], async ({ caller, userId, user }, deps) =>
    ok(await unlockUser(deps, caller.tenant, userId, user)),
  ),
});

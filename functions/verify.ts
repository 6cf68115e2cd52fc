import { api, userRoute } from '../lib/http/api.ts';
import { requiredString } from '../lib/http/fields.ts';
import { ok } from '../lib/http/respond.ts';
import { verifyCode } from '../lib/verification.ts';

export const handler = api({
  'POST /v1/users/{userId}/verify': userRoute(['users'], async ({ caller, userId, user, body }, deps) =>
    ok(await verifyCode(deps, caller.tenant, userId, user, requiredString(body, 'code'))),
  ),
});

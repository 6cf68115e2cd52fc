import { api, userRoute } from '../lib/http/api.ts';
import { requiredString } from '../lib/http/fields.ts';
import { ok } from '../lib/http/respond.ts';
import { verifyCode } from '../lib/verification.ts';

export const handler = api({
  'POST /v1/users/{userId}/verify': userRoute(['users'], async ({ userId, user, body }, context) =>
    ok(await verifyCode(context, userId, user, requiredString(body, 'code'))),
  ),
});

import { api, userRoute } from '../lib/http/api.ts';
import { verifyBody, none } from '../lib/http/inputs.ts';
import { ok } from '../lib/http/respond.ts';
import { verifyCode } from '../lib/usecases/verify.ts';

export const handler = api({
  'POST /v1/users/{userId}/verify': userRoute(
    ['users'],
    { body: verifyBody, query: none },
    async ({ userId, user, body }, context) => ok(await verifyCode(context, userId, user, body)),
  ),
});

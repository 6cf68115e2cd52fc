import { api, userRoute } from '../lib/http/api.ts';
import { none } from '../lib/http/inputs.ts';
import { ok } from '../lib/http/respond.ts';
import { replaceRecoveryCodes } from '../lib/usecases/recoveryCodes.ts';

export const handler = api({
  'POST /v1/users/{userId}/recovery-codes': userRoute(
    ['users'],
    { body: none, query: none },
    async ({ userId, user }, context) => ok(await replaceRecoveryCodes(context, userId, user)),
  ),
});

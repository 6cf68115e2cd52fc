import { api, userRoute } from '../lib/http/api.ts';
import { codeBody, none } from '../lib/http/inputs.ts';
import { ok } from '../lib/http/respond.ts';
import { confirmSetup } from '../lib/usecases/confirm.ts';

export const handler = api({
  'POST /v1/users/{userId}/confirm': userRoute(
    ['users'],
    { body: codeBody, query: none },
    async ({ userId, user, body }, context) => ok(await confirmSetup(context, userId, user, body.code)),
  ),
});

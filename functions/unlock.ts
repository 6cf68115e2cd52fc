import { api, userRoute } from '../lib/http/api.ts';
import { none } from '../lib/http/inputs.ts';
import { ok } from '../lib/http/respond.ts';
import { unlockUser } from '../lib/usecases/unlock.ts';

export const handler = api({
  'POST /v1/users/{userId}/unlock': userRoute(
    ['support'],
    { body: none, query: none },
    async ({ userId, user }, context) => ok(await unlockUser(context, userId, user)),
  ),
});

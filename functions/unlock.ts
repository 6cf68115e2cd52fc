import { api, userRoute } from '../lib/http/api.ts';
import { ok } from '../lib/http/respond.ts';
import { unlockUser } from '../lib/userAdmin.ts';

export const handler = api({
  'POST /v1/users/{userId}/unlock': userRoute(['support'], async ({ userId, user }, context) =>
    ok(await unlockUser(context, userId, user)),
  ),
});

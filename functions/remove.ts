import { api, userRoute } from '../lib/http/api.ts';
import { ok } from '../lib/http/respond.ts';
import { removeUser } from '../lib/userAdmin.ts';

export const handler = api({
  'DELETE /v1/users/{userId}': userRoute(['users', 'support'], async ({ userId, body }, context) =>
    ok(await removeUser(context, userId, body)),
  ),
});

import { api, userRoute } from '../lib/http/api.ts';
import { none, reasonBody } from '../lib/http/inputs.ts';
import { ok } from '../lib/http/respond.ts';
import { removeUser } from '../lib/usecases/remove.ts';

export const handler = api({
  'DELETE /v1/users/{userId}': userRoute(
    ['users', 'support'],
    { body: reasonBody, query: none },
    async ({ userId, body }, context) => ok(await removeUser(context, userId, body)),
  ),
});

import { api, userRoute } from '../lib/http/api.ts';
import { none, registerBody, removeBody } from '../lib/http/inputs.ts';
import { ok } from '../lib/http/respond.ts';
import { registerUser } from '../lib/usecases/enrolment.ts';
import { removeUser } from '../lib/usecases/remove.ts';

/** A user's registration and its end: PUT registers, DELETE removes (and with `forget`, forgets). */
export const handler = api({
  'PUT /v1/users/{userId}': userRoute(
    ['users', 'support'],
    { body: registerBody, query: none },
    async ({ userId, user, body }, context) => ok(await registerUser(context, userId, user, body)),
  ),
  'DELETE /v1/users/{userId}': userRoute(
    ['users', 'support'],
    { body: removeBody, query: none },
    async ({ userId, user, body }, context) => ok(await removeUser(context, userId, user, body)),
  ),
});

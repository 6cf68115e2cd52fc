import { api, userRoute } from '../lib/http/api.ts';
import { labelBody, none, reasonBody } from '../lib/http/inputs.ts';
import { ok } from '../lib/http/respond.ts';
import { removeAuthenticator, renameAuthenticator } from '../lib/usecases/authenticators.ts';

/** One authenticator of a user: removed (a lost phone) or renamed. */
export const handler = api({
  'DELETE /v1/users/{userId}/authenticators/{authenticatorId}': userRoute(
    ['users', 'support'],
    { body: reasonBody, query: none },
    async ({ userId, user, params, body }, context) =>
      ok(
        await removeAuthenticator(context, userId, user, {
          authenticatorId: params.authenticatorId ?? '',
          reason: body.reason,
        }),
      ),
  ),
  'PATCH /v1/users/{userId}/authenticators/{authenticatorId}': userRoute(
    ['users'],
    { body: labelBody, query: none },
    async ({ userId, user, params, body }, context) =>
      ok(
        await renameAuthenticator(context, userId, user, {
          authenticatorId: params.authenticatorId ?? '',
          label: body.label,
        }),
      ),
  ),
});

import { api, userRoute } from '../lib/http/api.ts';
import { none, setupBody } from '../lib/http/inputs.ts';
import { created } from '../lib/http/respond.ts';
import { startSetup } from '../lib/usecases/setup.ts';

export const handler = api({
  'POST /v1/users/{userId}/setup': userRoute(
    ['users'],
    { body: setupBody, query: none },
    async ({ userId, user, body }, context) => created(await startSetup(context, userId, user, body)),
  ),
});

import { api, userRoute } from '../lib/http/api.ts';
import { ok } from '../lib/http/respond.ts';
import { getStatus } from '../lib/userAdmin.ts';

export const handler = api({
  'GET /v1/users/{userId}': userRoute(['users', 'support'], async ({ userId, user }, context) =>
    ok(getStatus(context, userId, user)),
  ),
});

import { api, userRoute } from '../lib/http/api.ts';
import { isStaff } from '../lib/http/authenticate.ts';
import { none } from '../lib/http/inputs.ts';
import { ok } from '../lib/http/respond.ts';
import { getStatus } from '../lib/usecases/status.ts';

export const handler = api({
  'GET /v1/users/{userId}': userRoute(
    ['users', 'support'],
    { body: none, query: none },
    async ({ userId, user, caller }, context) =>
      ok(getStatus(context, userId, user, isStaff(caller.tenant, caller.key))),
  ),
});

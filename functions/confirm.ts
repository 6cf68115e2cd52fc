import { confirmSetup } from '../lib/enrolment.ts';
import { api, userRoute } from '../lib/http/api.ts';
import { requiredString } from '../lib/http/fields.ts';
import { ok } from '../lib/http/respond.ts';

export const handler = api({
  'POST /v1/users/{userId}/confirm': userRoute(['users'], async ({ userId, user, body }, context) =>
    ok(await confirmSetup(context, userId, user, requiredString(body, 'code'))),
  ),
});

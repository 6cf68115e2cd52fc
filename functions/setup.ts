import { startSetup } from '../lib/enrolment.ts';
import { api, userRoute } from '../lib/http/api.ts';
import { created } from '../lib/http/respond.ts';

export const handler = api({
  'POST /v1/users/{userId}/setup': userRoute(['users'], async ({ userId, user, body }, context) =>
    created(await startSetup(context, userId, user, body)),
  ),
});

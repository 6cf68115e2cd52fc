import { startSetup } from '../lib/enrolment.ts';
import { api, userRoute } from '../lib/http/api.ts';
import { created } from '../lib/http/respond.ts';

export const handler = api({
  'POST /v1/users/{userId}/setup': userRoute(['users'], async ({ caller, userId, user, body }, deps) =>
    created(await startSetup(deps, caller.tenant, userId, user, body)),
  ),
});

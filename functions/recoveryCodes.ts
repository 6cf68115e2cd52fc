import { api, userRoute } from '../lib/http/api.ts';
import { ok } from '../lib/http/respond.ts';
import { replaceRecoveryCodes } from '../lib/userAdmin.ts';

export const handler = api({
  'POST /v1/users/{userId}/recovery-codes': userRoute(['users'], async ({ userId, user }, context) =>
    ok(await replaceRecoveryCodes(context, userId, user)),
  ),
});

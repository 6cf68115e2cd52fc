import { api, userRoute } from '../lib/http/api.ts';
import { markReplayed } from '../lib/http/idempotency.ts';
import { verifyBody, none } from '../lib/http/inputs.ts';
import { ok } from '../lib/http/respond.ts';
import { verifyCode } from '../lib/usecases/verify.ts';

export const handler = api({
  'POST /v1/users/{userId}/verify': userRoute(
    ['users'],
    // An Idempotency-Key's answer is kept on the user's item by the write a verify makes anyway.
    { body: verifyBody, query: none, keepsOwnAnswers: true },
    async ({ userId, user, body, idempotency }, context) => {
      const { answer, replayed } = await verifyCode(context, userId, user, { ...body, idempotency });
      return replayed ? markReplayed(ok(answer)) : ok(answer);
    },
  ),
});

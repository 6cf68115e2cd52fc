import { noSuchRoute } from '../lib/errors.ts';
import { api, publicRoute } from '../lib/http/api.ts';

// API Gateway's `$default` route: whatever no other route matches comes through the
// same stack, and answers the contract's 404 with its request id and headers.
export const handler = api({
  $default: publicRoute(async () => {
    throw noSuchRoute();
  }),
});

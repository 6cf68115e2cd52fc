import { noSuchRoute } from '../lib/errors.ts';
import { api, publicRoute } from '../lib/http/api.ts';

/** Where a person who types the service's address, or the console's with a slash, meant to go. */
const TO_CONSOLE = new Set(['/', '/console/']);

// API Gateway's `$default` route: whatever no other route matches comes through the
// same stack, and answers the contract's 404 with its request id and headers; but a
// browser opening `/` or `/console/` is sent to the console.
export const handler = api({
  $default: publicRoute(async (event) => {
    if (event.requestContext.http.method === 'GET' && TO_CONSOLE.has(event.rawPath)) {
      return { statusCode: 308, headers: { location: '/console' }, body: '' };
    }
    throw noSuchRoute();
  }),
});

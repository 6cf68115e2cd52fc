import { api, publicRoute } from '../lib/http/api.ts';
import { ok } from '../lib/http/respond.ts';

export const handler = api({
  'GET /v1/health': publicRoute(async () => ok({ status: 'ok' })),
});

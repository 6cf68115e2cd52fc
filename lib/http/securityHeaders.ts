import type { MiddlewareObj } from '@middy/core';
import type { ApiContext, Event, Result } from './types.ts';

// For a JSON API, not a page: nothing may cache a response (setup carries a secret),
// sniff it into another type, or frame it. @middy/http-security-headers targets HTML
// pages and sets no Cache-Control, so these few are set here.
const HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

export const securityHeaders = (): MiddlewareObj<Event, Result, Error, ApiContext> => {
  const add = (request: { response: Result | null }) => {
    // A route may set its own policy and caching (the console's page and files);
    // every JSON answer gets these.
    if (request.response) request.response.headers = { ...HEADERS, ...request.response.headers };
  };
  return { after: add, onError: add };
};

import { randomUUID } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import type { ApiContext, Event, Result } from './types.ts';

// A caller's id is echoed only if it is a plain token: it goes into logs and headers.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Picks the request id (the caller's, API Gateway's, or a new one) and returns it on every response. */
export const requestId = (): MiddlewareObj<Event, Result, Error, ApiContext> => {
  const stamp = (request: { response: Result | null; context: ApiContext }) => {
    if (!request.response) return;
    request.response.headers = { ...request.response.headers, 'x-request-id': request.context.api.requestId };
  };
  return {
    before: (request) => {
      const given = request.event.headers?.['x-request-id'];
      const id =
        given && SAFE_ID.test(given) ? given : (request.event.requestContext?.requestId ?? randomUUID());
      request.context.api = { requestId: id };
    },
    after: stamp,
    onError: stamp,
  };
};

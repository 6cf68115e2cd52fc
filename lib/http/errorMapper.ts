import type { MiddlewareObj } from '@middy/core';
import { ApiError } from '../errors.ts';
import { errorBody, json } from './respond.ts';
import type { ApiContext, Event, Result } from './types.ts';

/**
 * The one place where errors become HTTP: an ApiError answers with its own status
 * and code; anything else is a 500 whose body says nothing of the cause, which is
 * logged with the request id instead.
 */
export const errorMapper = (
  log: (entry: Record<string, unknown>) => void = (entry) => console.error(JSON.stringify(entry)),
): MiddlewareObj<Event, Result, Error, ApiContext> => ({
  onError: (request) => {
    const error = request.error;
    if (error instanceof ApiError) {
      if (error.status >= 500) logError(log, request.context, error);
      request.response = json(error.status, errorBody(error.code, error.message), error.headers);
      return;
    }
    logError(log, request.context, error);
    request.response = json(500, errorBody('internal_error', 'an internal error occurred'));
  },
});

function logError(log: (entry: Record<string, unknown>) => void, context: ApiContext, error: unknown) {
  const cause = error instanceof Error ? (error.cause ?? error) : error;
  log({
    level: 'error',
    requestId: context.api?.requestId,
    error: error instanceof Error ? error.message : String(error),
    // The name and stack of the cause only: SDK errors can carry request parameters.
    cause: cause instanceof Error ? { name: cause.name, stack: cause.stack } : undefined,
  });
}

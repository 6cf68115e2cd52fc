import type { MiddlewareObj } from '@middy/core';
import { ApiError } from '../errors.ts';
import { logger } from '../observability/logger.ts';
import { errorBody, json } from './respond.ts';
import type { ApiContext, Event, Result } from './types.ts';

/**
 * The one place where errors become HTTP: an ApiError answers with its own status
 * and code; anything else is a 500 whose body says nothing of the cause, which is
 * logged with the request id instead.
 */
export const errorMapper = (): MiddlewareObj<Event, Result, Error, ApiContext> => ({
  onError: (request) => {
    const error = request.error;
    if (error instanceof ApiError) {
      if (error.status >= 500) logError(request.context, error);
      request.response = json(error.status, errorBody(error.code, error.message), error.headers);
      return;
    }
    logError(request.context, error);
    request.response = json(500, errorBody('internal_error', 'an internal error occurred'));
  },
});

function logError(context: ApiContext, error: unknown) {
  const cause = error instanceof Error ? (error.cause ?? error) : error;
  logger().error(error instanceof Error ? error.message : 'unexpected error', {
    requestId: context.api?.requestId,
    // The name, message and stack of the cause only: SDK errors carry request parameters.
    cause:
      cause instanceof Error
        ? { name: cause.name, message: cause.message, stack: cause.stack }
        : String(cause),
  });
}

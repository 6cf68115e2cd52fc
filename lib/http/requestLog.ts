import type { MiddlewareObj } from '@middy/core';
import { logger } from '../observability/logger.ts';
import type { ApiContext, Event, Result } from './types.ts';

/** One log line per request: request id, tenant, route, status, replayed, latency. Never a body or a header. */
export const requestLog = (): MiddlewareObj<Event, Result, Error, ApiContext> => {
  const started = new WeakMap<object, number>();
  const line = (request: { event: Event; context: ApiContext; response: Result | null }) => {
    const caller = request.context.api?.caller;
    logger().info('request', {
      requestId: request.context.api?.requestId,
      tenant: caller?.kind === 'tenant' ? caller.tenant.tenantId : caller?.kind,
      route: request.event.routeKey,
      status: request.response?.statusCode,
      // An answer kept under an Idempotency-Key, sent again: nothing was carried out.
      ...(request.response?.headers?.['idempotent-replayed'] === 'true' ? { replayed: true } : {}),
      latencyMs: Date.now() - (started.get(request.context) ?? Date.now()),
    });
  };
  return {
    before: (request) => {
      started.set(request.context, Date.now());
    },
    after: line,
    onError: line,
  };
};

import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { TenantContext } from '../context.ts';
import { type Deps, deps as defaultDeps } from '../deps.ts';
import { powertoolsMetrics } from '../observability/metrics.ts';
import type { Scope } from '../store/records.ts';
import { authenticate } from './authenticate.ts';
import { errorMapper } from './errorMapper.ts';
import { jsonBody } from './jsonBody.ts';
import { publishMetrics } from './publishMetrics.ts';
import { requestId } from './requestId.ts';
import { requestLog } from './requestLog.ts';
import { securityHeaders } from './securityHeaders.ts';
import type { Access, ApiContext, ApiRequest, Event, Result, TenantRequest, UserRequest } from './types.ts';

interface Route {
  access: Access;
  handle: (request: ApiRequest, deps: Deps) => Promise<Result>;
}

export const publicRoute = (handle: (request: ApiRequest, deps: Deps) => Promise<Result>): Route => ({
  access: 'public',
  handle,
});

export const operatorRoute = (handle: (request: ApiRequest, deps: Deps) => Promise<Result>): Route => ({
  access: 'operator',
  handle,
});

/** A route for tenant keys holding one of `scopes` (or `admin`, which may do everything). */
export const tenantRoute = (
  scopes: Scope[],
  handle: (request: TenantRequest, context: TenantContext) => Promise<Result>,
): Route => ({
  access: scopes,
  handle: (request, deps) => handle(request as TenantRequest, tenantContext(request as TenantRequest, deps)),
});

/** A tenant route under /v1/users/{userId}: the user's record comes with the request. */
export const userRoute = (
  scopes: Scope[],
  handle: (request: UserRequest, context: TenantContext) => Promise<Result>,
): Route => ({
  access: scopes,
  handle: (request, deps) => handle(request as UserRequest, tenantContext(request as UserRequest, deps)),
});

/** The tenant, and an audit trail that knows who is acting and in which request. */
function tenantContext(request: TenantRequest, deps: Deps): TenantContext {
  const { tenant, key } = request.caller;
  return {
    deps,
    tenant,
    audit: (entry) =>
      deps.audit.record({
        ...entry,
        tenantId: tenant.tenantId,
        at: deps.now(),
        actor: { keyId: key.id, name: key.name },
        requestId: request.requestId,
      }),
  };
}

/**
 * A Lambda handler serving `routes`, keyed by API Gateway route key
 * ("POST /v1/users/{userId}/verify"). The middleware stack is the same for every
 * handler: request id, request log, security headers, error mapping, metrics,
 * header normalisation, authentication, JSON body. `before` runs in that order;
 * `after` and `onError` in reverse, so the error mapper shapes an error before the
 * headers are added and the request is logged with its final status.
 */
export function api(routes: Record<string, Route>, getDeps: () => Deps = defaultDeps) {
  const handler = middy<Event, Result, Error, ApiContext>()
    .use(requestId())
    .use(requestLog())
    .use(securityHeaders())
    .use(errorMapper())
    .use(publishMetrics(powertoolsMetrics()))
    .use(httpHeaderNormalizer())
    // Authentication before the body: without a valid key, 401 whatever the body.
    .use(authenticate((routeKey) => routes[routeKey]?.access, getDeps))
    .use(jsonBody())
    .handler(async (event, context) => {
      const route = routes[event.routeKey] as Route;
      const state = context.api;
      const request: UserRequest = {
        requestId: state.requestId,
        body: state.body,
        query: event.queryStringParameters ?? {},
        params: event.pathParameters ?? {},
        caller: state.caller as UserRequest['caller'],
        userId: event.pathParameters?.userId ?? '',
        user: state.user,
      };
      return route.handle(request, getDeps());
    });
  // As Lambda sees it: a plain context goes in (the stack adds `api` to it), and the
  // route keys it serves are attached so a test can hold them against serverless.yml.
  const lambda = handler as unknown as (event: Event, context: Context) => Promise<Result>;
  return Object.assign(lambda, { routeKeys: Object.keys(routes) });
}

export type { Route };

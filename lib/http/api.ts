import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Scope } from '../domain/records.ts';
import { type Deps, deps as defaultDeps, forRequest } from '../deps.ts';
import { outOfTime } from '../errors.ts';
import { powertoolsMetrics } from '../observability/metrics.ts';
import { type TenantContext, tenantContext } from '../usecases/context.ts';
import { authenticate } from './authenticate.ts';
import { deadline, LAST_RESORT_MS } from './deadline.ts';
import { errorMapper } from './errorMapper.ts';
import {
  type IdempotentCall,
  idempotentCall,
  operatorRemembering,
  type Remembering,
  serveOnce,
  tenantRemembering,
} from './idempotency.ts';
import { jsonBody, MAX_BODY_BYTES } from './jsonBody.ts';
import { publishMetrics } from './publishMetrics.ts';
import { requestId } from './requestId.ts';
import { requestLog } from './requestLog.ts';
import { securityHeaders } from './securityHeaders.ts';
import type {
  Access,
  ApiContext,
  ApiRequest,
  Event,
  RawBody,
  RawQuery,
  RequestState,
  Result,
  TenantCaller,
  TenantRequest,
  UserRequest,
} from './types.ts';

/** What the stack gives a route once it has authenticated the caller and parsed the body. */
interface Served {
  state: RequestState;
  event: Event;
  deps: Deps;
}

interface Route {
  access: Access;
  /** How the route reads its body and query: none for a public route. */
  inputs?: Inputs<unknown, unknown>;
  /** The largest body the route reads; none for a public route, which reads no body. */
  maxBodyBytes?: number;
  serve: (served: Served) => Promise<Result>;
}

/**
 * How a route reads its body and query (lib/http/inputs.ts): each parser refuses
 * bad input with a 400 naming the field; `none` says the route takes nothing there.
 */
export interface Inputs<Body, Query> {
  body: (raw: RawBody) => Body;
  query: (raw: RawQuery) => Query;
  /** 16 KiB unless the route says otherwise (the cPanel import takes 1 MiB). */
  maxBodyBytes?: number;
  /**
   * The route keeps the answers of requests sent with an Idempotency-Key itself (verify,
   * in the write it makes anyway); every other mutating route is served once by serveOnce.
   */
  keepsOwnAnswers?: true;
}

function request<Body, Query>(
  { state, event }: Served,
  inputs: Inputs<Body, Query>,
): ApiRequest<Body, Query> {
  const idempotency = idempotentCall(event);
  return {
    requestId: state.requestId,
    body: inputs.body(state.body),
    query: inputs.query(event.queryStringParameters ?? {}),
    params: event.pathParameters ?? {},
    ...(idempotency ? { idempotency } : {}),
  };
}

/** Serves `handle` once per Idempotency-Key when the request sent one, unless the route keeps its own answers. */
const remembered = (
  { deps }: Served,
  call: IdempotentCall | undefined,
  inputs: Inputs<unknown, unknown>,
  remembering: () => Remembering,
  handle: () => Promise<Result>,
) => (call === undefined || inputs.keepsOwnAnswers ? handle() : serveOnce(deps, call, remembering(), handle));

/** A route without a key (health, the 404, the console's files); it reads no body. */
export const publicRoute = (handle: (event: Event) => Promise<Result>): Route => ({
  access: 'public',
  serve: ({ event }) => handle(event),
});

export const operatorRoute = <Body, Query>(
  inputs: Inputs<Body, Query>,
  handle: (request: ApiRequest<Body, Query>, deps: Deps) => Promise<Result>,
): Route => ({
  access: 'operator',
  inputs,
  maxBodyBytes: inputs.maxBodyBytes ?? MAX_BODY_BYTES,
  serve: (served) => {
    const operatorRequest = request(served, inputs);
    // The tenant an operator's request is about: the one in its path, or the one it creates.
    const tenantIdOf = () => {
      const named = operatorRequest.params.tenantId ?? served.state.body?.tenantId;
      return typeof named === 'string' ? named : undefined;
    };
    return remembered(
      served,
      operatorRequest.idempotency,
      inputs,
      () => operatorRemembering(served.deps, tenantIdOf),
      () => handle(operatorRequest, served.deps),
    );
  },
});

/** A route for tenant keys holding one of `scopes` (or `admin`, which may do everything). */
export const tenantRoute = <Body, Query>(
  scopes: Scope[],
  inputs: Inputs<Body, Query>,
  handle: (request: TenantRequest<Body, Query>, context: TenantContext) => Promise<Result>,
): Route => ({
  access: scopes,
  inputs,
  maxBodyBytes: inputs.maxBodyBytes ?? MAX_BODY_BYTES,
  serve: (served) => {
    const caller = tenantCaller(served.state);
    const tenantRequest = { ...request(served, inputs), caller };
    return servedForTenant(served, inputs, tenantRequest, handle);
  },
});

/** A tenant route under /v1/users/{userId}: the user's record comes with the request. */
export const userRoute = <Body, Query>(
  scopes: Scope[],
  inputs: Inputs<Body, Query>,
  handle: (request: UserRequest<Body, Query>, context: TenantContext) => Promise<Result>,
): Route => ({
  access: scopes,
  inputs,
  maxBodyBytes: inputs.maxBodyBytes ?? MAX_BODY_BYTES,
  serve: (served) => {
    const caller = tenantCaller(served.state);
    // authenticate() has checked the user id by now, and read the user if it exists.
    const userId = served.event.pathParameters?.userId;
    if (userId === undefined) throw new Error('a user route without {userId} in its path');
    const userRequest = { ...request(served, inputs), caller, userId, user: served.state.user };
    return servedForTenant(served, inputs, userRequest, handle);
  },
});

/** A tenant's request, served with its context; once per Idempotency-Key, its answer sealed under the tenant's key. */
const servedForTenant = <R extends TenantRequest<unknown, unknown>>(
  served: Served,
  inputs: Inputs<unknown, unknown>,
  tenantRequest: R,
  handle: (request: R, context: TenantContext) => Promise<Result>,
) =>
  remembered(
    served,
    tenantRequest.idempotency,
    inputs,
    () => tenantRemembering(served.deps, tenantRequest.caller.tenant),
    () => handle(tenantRequest, contextOf(tenantRequest, served.deps)),
  );

const contextOf = ({ caller, requestId }: TenantRequest<unknown, unknown>, deps: Deps) =>
  tenantContext(deps, caller.tenant, { keyId: caller.key.id, name: caller.key.name }, requestId);

function tenantCaller(state: RequestState): TenantCaller {
  if (state.caller?.kind !== 'tenant') throw new Error('a tenant route reached without a tenant key');
  return state.caller;
}

/**
 * A Lambda handler serving `routes`, keyed by API Gateway route key
 * ("POST /v1/users/{userId}/verify"). The middleware stack is the same for every
 * handler: request id, deadline, request log, security headers, error mapping,
 * metrics, header normalisation, authentication, JSON body. `before` runs in that
 * order; `after` and `onError` in reverse, so the error mapper shapes an error before
 * the headers are added and the request is logged with its final status.
 *
 * Every store call of the request checks its deadline's signal (`forRequest`): when
 * the time is up none starts, those in flight finish, and the answer is a 503 with
 * Retry-After. middy's own timeout, later still, answers the same.
 */
export function api(routes: Record<string, Route>, getDeps: () => Deps = defaultDeps) {
  const depsOf = (state: RequestState) => (state.signal ? forRequest(getDeps(), state.signal) : getDeps());
  const handler = middy<Event, Result, Error, ApiContext>({
    timeoutEarlyInMillis: LAST_RESORT_MS,
    timeoutEarlyResponse: () => {
      throw outOfTime(new Error('the handler did not finish before the last-resort timeout'));
    },
  })
    .use(requestId())
    .use(deadline())
    .use(requestLog())
    .use(securityHeaders())
    .use(errorMapper())
    .use(publishMetrics(powertoolsMetrics()))
    .use(httpHeaderNormalizer())
    // Authentication before the body: without a valid key, 401 whatever the body.
    .use(authenticate((routeKey) => routes[routeKey]?.access, depsOf))
    .use(jsonBody((routeKey) => routes[routeKey]?.maxBodyBytes))
    .handler(async (event, context) => {
      const route = routes[event.routeKey];
      if (!route) throw new Error(`no route ${event.routeKey}`);
      // Built on first use: a public route (health, the 404, the console) needs none.
      let deps: Deps | undefined;
      return route.serve({
        state: context.api,
        event,
        get deps() {
          return (deps ??= depsOf(context.api));
        },
      });
    });
  // As Lambda sees it: a plain context goes in (the stack adds `api` to it), and the
  // routes it serves are attached so a test can hold them against serverless.yml and
  // their parsers against openapi.yaml.
  const lambda = handler as unknown as (event: Event, context: Context) => Promise<Result>;
  return Object.assign(lambda, {
    routeKeys: Object.keys(routes),
    routeInputs: Object.fromEntries(Object.entries(routes).map(([key, route]) => [key, route.inputs])),
  });
}

export type { Route };

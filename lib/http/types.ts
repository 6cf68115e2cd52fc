import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { UserRecord } from '../domain/user.ts';
import type { IdempotentCall } from '../crypto/idempotency.ts';
import type { ApiKeyRecord, Scope, TenantRecord } from '../domain/records.ts';

export type Event = APIGatewayProxyEventV2;
export type Result = APIGatewayProxyStructuredResultV2;

/** Who is calling, once the bearer key has been checked. */
export type Caller =
  { kind: 'anonymous' } | { kind: 'operator' } | { kind: 'tenant'; tenant: TenantRecord; key: ApiKeyRecord };

export type TenantCaller = Extract<Caller, { kind: 'tenant' }>;

export type RawBody = Record<string, unknown> | undefined;
export type RawQuery = Record<string, string | undefined>;

/**
 * What the middleware stack hands to a route: `body` and `query` as the route's
 * declaration parsed them (lib/http/inputs.ts), so a use case receives typed input.
 */
export interface ApiRequest<Body = undefined, Query = undefined> {
  requestId: string;
  body: Body;
  query: Query;
  params: Record<string, string | undefined>;
  /** The Idempotency-Key of a mutating request that sent one (lib/http/idempotency.ts). */
  idempotency?: IdempotentCall;
}

/** A tenant route's request: the tenant and the key that called. */
export interface TenantRequest<Body = undefined, Query = undefined> extends ApiRequest<Body, Query> {
  caller: TenantCaller;
}

/** A route under /v1/users/{userId}: the user's record comes with the request. */
export interface UserRequest<Body = undefined, Query = undefined> extends TenantRequest<Body, Query> {
  userId: string;
  /** The user's record, read in the same round trip as the key and tenant. */
  user: UserRecord | undefined;
}

export type Access = 'public' | 'operator' | Scope[];

export interface RequestState {
  requestId: string;
  /** Aborts when the request's time is up (lib/http/deadline.ts): its store calls stop. */
  signal?: AbortSignal;
  body?: Record<string, unknown>;
  caller?: Caller;
  user?: UserRecord;
}

export type ApiContext = Context & { api: RequestState };

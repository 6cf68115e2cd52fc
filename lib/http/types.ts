import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { UserRecord } from '../domain/user.ts';
import type { ApiKeyRecord, Scope, TenantRecord } from '../store/records.ts';

export type Event = APIGatewayProxyEventV2;
export type Result = APIGatewayProxyStructuredResultV2;

/** Who is calling, once the bearer key has been checked. */
export type Caller =
  { kind: 'anonymous' } | { kind: 'operator' } | { kind: 'tenant'; tenant: TenantRecord; key: ApiKeyRecord };

export type TenantCaller = Extract<Caller, { kind: 'tenant' }>;

/** What the middleware stack hands to a route. */
export interface ApiRequest {
  requestId: string;
  body: Record<string, unknown> | undefined;
  query: Record<string, string | undefined>;
  params: Record<string, string | undefined>;
  caller: Caller;
}

/** A tenant route's request: the tenant and key, and the user named in the path if any. */
export interface TenantRequest extends ApiRequest {
  caller: TenantCaller;
}

export interface UserRequest extends TenantRequest {
  userId: string;
  /** The user's record, read in the same round trip as the key and tenant. */
  user: UserRecord | undefined;
}

export type Access = 'public' | 'operator' | Scope[];

export interface RequestState {
  requestId: string;
  body?: Record<string, unknown>;
  caller?: Caller;
  user?: UserRecord;
}

export type ApiContext = Context & { api: RequestState };

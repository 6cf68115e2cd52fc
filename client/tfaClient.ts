import createClient from 'openapi-fetch';
import { DEFAULT_RETRY, type RetryPolicy, retryingFetch } from './retry.ts';
import type { components, paths } from './schema.ts';

/**
 * The typed client of the API: the CLI, the console and the tests call the service
 * through it. Its types are generated from openapi.yaml (client/schema.ts, by
 * `npm run generate:client`; a test fails when they are stale), so a route, a field
 * or an error code the spec does not have does not compile. Each method answers the
 * API's body, or throws a `TfaApiError` carrying the contract's code.
 */

export type Schemas = components['schemas'];
export type ErrorCode = Schemas['Error']['error']['code'];
export type Scope = Schemas['Scope'];
/** What `GET /v1/users` may be filtered to. */
export type UserFilter = NonNullable<NonNullable<paths['/v1/users']['get']['parameters']['query']>['status']>;
export const USER_FILTERS: readonly UserFilter[] = [
  'enabled',
  'pending',
  'locked',
  'disabled',
  'unenrolled',
  'due',
  'overdue',
  'exempt',
];

/** The security events' types, in the contract's order (openapi.yaml's EventType). */
export type EventType = Schemas['EventType'];
export const EVENT_TYPES: readonly EventType[] = [
  'tfa.user.enrolled',
  'tfa.user.removed',
  'tfa.authenticator.removed',
  'tfa.user.imported',
  'tfa.user.locked',
  'tfa.user.disabled',
  'tfa.user.unlocked',
  'tfa.recovery_code.used',
  'tfa.recovery_codes.regenerated',
  'tfa.verification.replayed',
  'tfa.settings.updated',
  'tfa.key.created',
  'tfa.key.deleted',
  'tfa.webhook.disabled',
  'tfa.webhook.test',
];

/** An answer that is not a success: the contract's error code and message, with the request id. */
export class TfaApiError extends Error {
  override readonly name = 'TfaApiError';

  constructor(
    readonly status: number,
    /** The contract's code; `unexpected_response` when the body is not the contract's error shape. */
    readonly code: ErrorCode | 'unexpected_response',
    message: string,
    readonly requestId: string | undefined,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  /** The service's base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** The operator key or a tenant key, sent as `Authorization: Bearer`. */
  key?: string | undefined;
  retry?: Partial<RetryPolicy>;
  /** The transport under the retries (tests pass one that holds answers to the spec). */
  fetch?: typeof fetch;
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

function failure(response: Response, body: unknown): TfaApiError {
  const requestId = response.headers.get('x-request-id') ?? undefined;
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code === 'string' && typeof error.message === 'string') {
    return new TfaApiError(response.status, error.code as ErrorCode, error.message, requestId);
  }
  return new TfaApiError(
    response.status,
    'unexpected_response',
    `HTTP ${response.status} without the contract's error body`,
    requestId,
  );
}

async function answer<T>(call: Promise<Answer<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw failure(response, error);
  return data as T;
}

type Page = { limit?: number; cursor?: string };

export function tfaClient(options: ClientOptions) {
  const api = createClient<paths>({
    baseUrl: options.url.replace(/\/+$/, ''),
    fetch: retryingFetch(options.fetch ?? globalThis.fetch, { ...DEFAULT_RETRY, ...options.retry }),
    headers: options.key === undefined ? {} : { authorization: `Bearer ${options.key}` },
  });
  const user = (userId: string) => ({ params: { path: { userId } } });

  return {
    health: () => answer(api.GET('/v1/health')),
    tenants: {
      create: (body: Schemas['NewTenant']) => answer(api.POST('/v1/tenants', { body })),
      list: (query: Page = {}) => answer(api.GET('/v1/tenants', { params: { query } })),
      get: (tenantId: string) =>
        answer(api.GET('/v1/tenants/{tenantId}', { params: { path: { tenantId } } })),
      delete: (tenantId: string, reason: string) =>
        answer(api.DELETE('/v1/tenants/{tenantId}', { params: { path: { tenantId } }, body: { reason } })),
      createKey: (tenantId: string, body: Schemas['NewKey']) =>
        answer(api.POST('/v1/tenants/{tenantId}/keys', { params: { path: { tenantId } }, body })),
    },
    settings: {
      get: () => answer(api.GET('/v1/settings')),
      change: (body: Schemas['SettingsChange']) => answer(api.PATCH('/v1/settings', { body })),
    },
    enrolment: {
      /** The tenant's enrolment counts, exact as of `asOf`. */
      report: () => answer(api.GET('/v1/enrolment')),
    },
    keys: {
      create: (body: Schemas['NewKey']) => answer(api.POST('/v1/keys', { body })),
      list: () => answer(api.GET('/v1/keys')),
      delete: (id: string) => answer(api.DELETE('/v1/keys/{id}', { params: { path: { id } } })),
    },
    webhooks: {
      /** The secret is in this answer only. */
      create: (body: Schemas['NewWebhook']) => answer(api.POST('/v1/webhooks', { body })),
      list: () => answer(api.GET('/v1/webhooks')),
      show: (id: string) => answer(api.GET('/v1/webhooks/{id}', { params: { path: { id } } })),
      /** URL, events, description, or status `active` / `paused`. */
      change: (id: string, body: Schemas['WebhookChange']) =>
        answer(api.PATCH('/v1/webhooks/{id}', { params: { path: { id } }, body })),
      delete: (id: string) => answer(api.DELETE('/v1/webhooks/{id}', { params: { path: { id } } })),
      /** A new secret, shown once; the replaced one signs beside it for 24 hours. */
      rotateSecret: (id: string) =>
        answer(api.POST('/v1/webhooks/{id}/rotate-secret', { params: { path: { id } } })),
      /** Queues a `tfa.webhook.test` event to this endpoint alone. */
      test: (id: string) => answer(api.POST('/v1/webhooks/{id}/test', { params: { path: { id } } })),
      /** Newest first, kept 7 days. */
      deliveries: (id: string, query: Page = {}) =>
        answer(api.GET('/v1/webhooks/{id}/deliveries', { params: { path: { id }, query } })),
      /** The same message (same webhook-id), sent again now. */
      redeliver: (id: string, messageId: string) =>
        answer(
          api.POST('/v1/webhooks/{id}/deliveries/{messageId}/redeliver', {
            params: { path: { id, messageId } },
          }),
        ),
    },
    users: {
      list: (query: Page & { status?: UserFilter } = {}) =>
        answer(api.GET('/v1/users', { params: { query } })),
      status: (userId: string) => answer(api.GET('/v1/users/{userId}', user(userId))),
      /** With `forget`, the registration goes too; without it a registered user stays registered. */
      remove: (userId: string, reason?: string, forget = false) =>
        answer(
          api.DELETE('/v1/users/{userId}', {
            ...user(userId),
            ...(reason === undefined && !forget
              ? {}
              : { body: { ...(reason === undefined ? {} : { reason }), ...(forget ? { forget } : {}) } }),
          }),
        ),
      /** Registers the user (expected to enrol), or changes its own `dueAt` or `exempt`; idempotent. */
      register: (userId: string, body: Schemas['Registration'] = {}) =>
        answer(api.PUT('/v1/users/{userId}', { ...user(userId), body })),
      setup: (userId: string, body: Schemas['SetupRequest'] = {}) =>
        answer(api.POST('/v1/users/{userId}/setup', { ...user(userId), body })),
      confirm: (userId: string, code: string) =>
        answer(api.POST('/v1/users/{userId}/confirm', { ...user(userId), body: { code } })),
      /** Without `authenticatorId` every authenticator is checked (and a wrong code counts once for each). */
      verify: (userId: string, code: string, authenticatorId?: string) =>
        answer(
          api.POST('/v1/users/{userId}/verify', {
            ...user(userId),
            body: { code, ...(authenticatorId === undefined ? {} : { authenticatorId }) },
          }),
        ),
      /** Removes one authenticator; the last one removes the user's two-factor authentication. */
      removeAuthenticator: (userId: string, authenticatorId: string, reason?: string) =>
        answer(
          api.DELETE('/v1/users/{userId}/authenticators/{authenticatorId}', {
            params: { path: { userId, authenticatorId } },
            ...(reason === undefined ? {} : { body: { reason } }),
          }),
        ),
      renameAuthenticator: (userId: string, authenticatorId: string, label: string) =>
        answer(
          api.PATCH('/v1/users/{userId}/authenticators/{authenticatorId}', {
            params: { path: { userId, authenticatorId } },
            body: { label },
          }),
        ),
      newRecoveryCodes: (userId: string) =>
        answer(api.POST('/v1/users/{userId}/recovery-codes', user(userId))),
      unlock: (userId: string) => answer(api.POST('/v1/users/{userId}/unlock', user(userId))),
    },
    audit: (query: Page & { userId?: string } = {}) => answer(api.GET('/v1/audit', { params: { query } })),
    /** Another panel's export (ImportRequest's `source`), at most 1,000 logins a call. */
    importLogins: (format: Schemas['ImportFormat'], body: Schemas['ImportRequest']) =>
      answer(api.POST('/v1/import/{format}', { params: { path: { format } }, body })),
  };
}

export type TfaClient = ReturnType<typeof tfaClient>;

/** Every page of a listing, in order: `list` is called with each page's `nextCursor` until it is null. */
export async function* pages<P extends { nextCursor: string | null }>(
  list: (cursor: string | undefined) => Promise<P>,
): AsyncGenerator<P> {
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    yield page;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}

/** Every item of every page of a listing, in order (`items` picks them out of a page). */
export async function allItems<P extends { nextCursor: string | null }, T>(
  list: (cursor: string | undefined) => Promise<P>,
  items: (page: P) => T[],
): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages(list)) all.push(...items(page));
  return all;
}

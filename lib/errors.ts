/**
 * The error catalogue: every error code the API answers with and its HTTP status, in
 * one place. `test/unit/errors.test.ts` holds it to openapi.yaml and to docs/. Nothing
 * else reaches a response body; any other exception becomes `500 internal_error`
 * in lib/http/errorMapper.ts.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_user_id: 400,
  invalid_tenant_id: 400,
  invalid_issuer: 400,
  invalid_settings: 400,
  invalid_cursor: 400,
  invalid_webhook: 400,
  invalid_webhook_url: 400,
  invalid_source: 400,
  unauthorized: 401,
  forbidden: 403,
  policy_disabled: 403,
  not_found: 404,
  tenant_not_found: 404,
  key_not_found: 404,
  not_enrolled: 404,
  no_pending_setup: 404,
  authenticator_not_found: 404,
  webhook_not_found: 404,
  tenant_exists: 409,
  idempotency_in_flight: 409,
  already_enrolled: 409,
  last_admin_key: 409,
  label_taken: 409,
  too_many_authenticators: 409,
  too_many_webhooks: 409,
  setup_expired: 410,
  invalid_code: 422,
  idempotency_key_reused: 422,
  locked: 423,
  internal_error: 500,
  service_unavailable: 503,
} as const satisfies Record<string, 400 | 401 | 403 | 404 | 409 | 410 | 422 | 423 | 500 | 503>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error of the catalogue: its code fixes its status; the message is fit for the caller. */
export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = ERROR_STATUS[code];
  }
}

export const invalidRequest = (message: string) => new ApiError('invalid_request', message);
/**
 * Why a request has no valid key, in words that say what would fix it. A key that is
 * well formed but unknown, wrong, or of a deleted tenant gets one message: the answer
 * never tells whether a key or a tenant exists.
 */
export const unauthorized = (why: 'missing' | 'malformed' | 'rejected' = 'rejected') =>
  new ApiError(
    'unauthorized',
    {
      missing: 'no API key: send the header "Authorization: Bearer <API key>"',
      malformed: 'the Authorization header must be "Bearer <API key>", the key in one piece',
      rejected:
        'the API key is not valid: check that it was copied whole, or ask an administrator for a new one',
    }[why],
  );

/** Which key the route needs: the operator's, or a tenant key holding one of `scopes` (or admin). */
export const forbidden = (needs: 'operator' | 'tenant' | readonly string[]) =>
  new ApiError(
    'forbidden',
    needs === 'operator'
      ? 'this route needs the operator key'
      : needs === 'tenant'
        ? "the operator key manages tenants only: use one of the tenant's own keys here"
        : needs.length === 0
          ? 'this route needs a key with the scope admin'
          : `this route needs a key with the scope ${needs.join(' or ')} (or admin)`,
  );
export const noSuchRoute = () => new ApiError('not_found', 'no such route');
export const policyDisabled = () =>
  new ApiError('policy_disabled', 'two-factor authentication is disabled for this tenant');
export const invalidUserId = () =>
  new ApiError('invalid_user_id', 'userId must be 1 to 128 characters of A-Z a-z 0-9 . _ @ + -');
export const invalidTenantId = () =>
  new ApiError('invalid_tenant_id', 'tenantId must be 1 to 63 characters of a-z 0-9 -, not starting with -');
export const invalidIssuer = () =>
  new ApiError('invalid_issuer', 'issuer must be 1 to 64 printable characters without ":"');
export const invalidCursor = () => new ApiError('invalid_cursor', 'the cursor is not valid for this listing');
export const tenantNotFound = () => new ApiError('tenant_not_found', 'no such tenant');
export const notEnrolled = () => new ApiError('not_enrolled', 'the user has no active authenticator');
export const noPendingSetup = (message = 'the user has no pending setup') =>
  new ApiError('no_pending_setup', message);
export const invalidCode = () => new ApiError('invalid_code', 'the code is not valid');
export const setupExpired = () => new ApiError('setup_expired', 'the setup has expired; start a new one');
export const alreadyEnrolled = () =>
  new ApiError('already_enrolled', 'the user has an active authenticator; set reconfigure to replace it');
export const authenticatorNotFound = () =>
  new ApiError('authenticator_not_found', 'the user has no authenticator with this id');
export const labelTaken = () =>
  new ApiError(
    'label_taken',
    "another of the user's authenticators has this label (case is not significant)",
  );
export const tooManyAuthenticators = (max: number) =>
  new ApiError('too_many_authenticators', `the user has ${max} authenticators, the most the tenant allows`);
/** An add or a replace while the 100-failure disable holds: only a reconfigure (or removal) lifts it. */
export const authenticatorsDisabled = () =>
  new ApiError(
    'locked',
    "the user's authenticators are disabled after 100 failed attempts: set up a reconfigure, or remove them",
  );
export const keyNotFound = () => new ApiError('key_not_found', 'no such key');
export const webhookNotFound = (message = 'no such webhook endpoint') =>
  new ApiError('webhook_not_found', message);
export const tooManyWebhooks = (max: number) =>
  new ApiError('too_many_webhooks', `the tenant has ${max} webhook endpoints, the most it may have`);
export const invalidWebhook = (message: string) => new ApiError('invalid_webhook', message);
export const invalidWebhookUrl = (message: string) => new ApiError('invalid_webhook_url', message);
export const invalidSource = (message: string) => new ApiError('invalid_source', message);
export const lastAdminKey = () =>
  new ApiError('last_admin_key', "this is the tenant's last admin key; make another one first");
export const tenantExists = () => new ApiError('tenant_exists', 'a tenant with this id exists');
/** A settings rule refused a value: the domain names the contract's code and the field. */
export const settingsRefused = (problem: {
  code: 'invalid_request' | 'invalid_settings' | 'invalid_issuer';
  message: string;
}) => new ApiError(problem.code, problem.message);

/** An Idempotency-Key met again with another request (lib/domain/idempotency.ts). */
export const idempotencyKeyReused = (
  message = 'this Idempotency-Key was used for another request (method, path, query or body); send a new key',
) => new ApiError('idempotency_key_reused', message);
/** The request that first sent this Idempotency-Key is still running. */
export const idempotencyInFlight = (retryAfterSeconds: number) =>
  new ApiError('idempotency_in_flight', 'a request with this Idempotency-Key is in flight; retry later', {
    'retry-after': String(retryAfterSeconds),
  });

/** The user is locked (confirm, or any call other than verify, which answers it in its body). */
export const locked = (retryAfterSeconds: number) =>
  new ApiError('locked', 'too many failed attempts; retry later', {
    'retry-after': String(retryAfterSeconds),
  });

/** AWS (KMS, DynamoDB) failed or throttled: the caller may retry; never a wrong answer. */
export const serviceUnavailable = (what: string, cause?: unknown) => {
  const error = new ApiError('service_unavailable', `${what} is unavailable, retry later`, {
    'retry-after': '1',
  });
  if (cause !== undefined) error.cause = cause;
  return error;
};

/**
 * The request's time was up before its work was done: no store call starts after
 * this, so what is stored is as a lost reply would leave it, and a retry finishes it.
 */
export const outOfTime = (cause?: unknown) => {
  const error = new ApiError('service_unavailable', 'the service is busy and ran out of time; retry later', {
    'retry-after': '2',
  });
  if (cause !== undefined) error.cause = cause;
  return error;
};

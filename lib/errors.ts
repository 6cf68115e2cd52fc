/**
 * Every error the API answers with: the contract's code, its HTTP status and a
 * message fit for the caller. Nothing else reaches a response body; any other
 * exception becomes `500 internal_error` in lib/http/errorMapper.ts.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const invalidRequest = (message: string) => new ApiError(400, 'invalid_request', message);
export const unauthorized = () => new ApiError(401, 'unauthorized', 'a valid API key is required');
export const forbidden = () => new ApiError(403, 'forbidden', 'this key may not use this route');
export const notFound = (code: string, message: string) => new ApiError(404, code, message);
export const conflict = (code: string, message: string) => new ApiError(409, code, message);
export const policyDisabled = () =>
  new ApiError(403, 'policy_disabled', 'two-factor authentication is disabled for this tenant');
export const invalidUserId = () =>
  new ApiError(400, 'invalid_user_id', 'userId must be 1 to 128 characters of A-Z a-z 0-9 . _ @ + -');
export const notEnrolled = () => notFound('not_enrolled', 'the user has no active authenticator');

/** AWS (KMS, DynamoDB) failed or throttled: the caller may retry; never a wrong answer. */
export const serviceUnavailable = (what: string, cause?: unknown) => {
  const error = new ApiError(503, 'service_unavailable', `${what} is unavailable, retry later`, {
    'retry-after': '1',
  });
  if (cause !== undefined) error.cause = cause;
  return error;
};

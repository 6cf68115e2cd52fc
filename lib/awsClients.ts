/**
 * How every AWS client of the service talks: a bounded time per attempt (a login must
 * not hang on a slow store or key service; few attempts, then a 503). The fault tests
 * (test/api/faults.test.ts) hold the bound.
 */
export const boundedRequests = (requestTimeoutMs: number, connectionTimeoutMs = 1000) => ({
  connectionTimeout: connectionTimeoutMs,
  requestTimeout: requestTimeoutMs,
  // Without it, @smithy/node-http-handler only logs a warning when the time is up and
  // keeps waiting.
  throwOnRequestTimeout: true,
});

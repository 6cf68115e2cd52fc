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

/**
 * An AWS SDK client made on first use, its module imported only then: a request that
 * never needs it (a warm verify and KMS, a tenant key and SSM) never loads it, and
 * code splitting keeps it out of the cold start. `load` must be the literal
 * `() => import('@aws-sdk/client-…')` for the bundler to split it.
 */
export function lazyClient<Sdk, Client>(
  load: () => Promise<Sdk>,
  make: (sdk: Sdk) => Client,
  onClient: (client: Client) => void,
): () => Promise<{ sdk: Sdk; client: Client }> {
  let made: Promise<{ sdk: Sdk; client: Client }> | undefined;
  return () =>
    (made ??= load().then((sdk) => {
      const client = make(sdk);
      onClient(client);
      return { sdk, client };
    }));
}

/**
 * Retries for the typed client: every request may be sent again, because every
 * mutating one carries an `Idempotency-Key`.
 *
 * - Each `POST`, `PUT`, `PATCH` and `DELETE` gets a fresh key (a random UUID) unless
 *   the caller set one, and keeps it across its retries: the service carries it out
 *   once and answers a retry with the first answer (`idempotent-replayed: true`), so
 *   a verify whose reply was lost is not answered `replayed`, nor a setup minted twice.
 * - Retried: a network error (the connection refused, or broken mid-flight: the
 *   request may have been served, and its key makes that harmless), `429` (API
 *   Gateway's throttling), `503`, and `409 idempotency_in_flight` (the first attempt
 *   is still running). Each retry waits for `Retry-After` when the answer gives it,
 *   else a backoff with full jitter.
 *
 * No Node.js API here: the browser console uses this client too.
 */
export interface RetryPolicy {
  /** Tries after the first; 0 turns retries off. */
  retries: number;
  /** The backoff's first ceiling; each try doubles it, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the error goes to the caller. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  retries: 4,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 30_000,
};

/** The methods the service carries out once per Idempotency-Key. */
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether an answer may be met by sending the request again: throttled, unavailable, or its first attempt still running. */
async function retried(response: Response): Promise<boolean> {
  if (response.status === 429 || response.status === 503) return true;
  if (response.status !== 409) return false;
  const body = (await response
    .clone()
    .json()
    .catch(() => undefined)) as { error?: { code?: unknown } } | undefined;
  return body?.error?.code === 'idempotency_in_flight';
}

/** `request`, with a fresh Idempotency-Key if it is a mutating one that has none. */
export function withIdempotencyKey(request: Request): Request {
  if (!MUTATING.has(request.method) || request.headers.has('idempotency-key')) return request;
  const headers = new Headers(request.headers);
  headers.set('idempotency-key', globalThis.crypto.randomUUID());
  return new Request(request, { headers });
}

/** Full jitter (AWS's "Exponential Backoff and Jitter"): uniform in [0, ceiling]. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random) {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from `nowMs`; undefined if absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^[0-9]+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `fetch`, with the retries above. */
export function retryingFetch(inner: typeof fetch, policy: RetryPolicy): typeof fetch {
  return async (input, init) => {
    // One key for all the attempts: the service answers them as one request.
    const request = withIdempotencyKey(new Request(input, init));
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= policy.retries;
      let response: Response;
      try {
        response = await inner(request.clone());
      } catch (error) {
        if (last || request.signal.aborted) throw error;
        await sleep(backoffMs(policy, attempt));
        continue;
      }
      if (last || !(await retried(response))) return response;
      const asked = retryAfterMs(response.headers.get('retry-after'));
      if (asked !== undefined && asked > policy.maxRetryAfterMs) return response;
      await response.body?.cancel();
      await sleep(asked ?? backoffMs(policy, attempt));
    }
  };
}

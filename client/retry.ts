/**
 * Retries for the typed client: only where trying again cannot do harm and may help.
 *
 * - `429` (API Gateway's throttling, which answers before the service sees the
 *   request): every method. `503`: the idempotent methods, and the POSTs that are
 *   idempotent by their contract (an import: the same one twice changes nothing the
 *   second time). A 503 may come after the service acted (its time ran out after a
 *   write), so another POST sent again could mint a second key. Each retry waits for
 *   `Retry-After` when the answer gives it, else a backoff with full jitter.
 * - A network error: idempotent methods always; other methods only when the request
 *   cannot have reached a server (the connection was refused, the name did not
 *   resolve). A POST whose connection broke mid-flight may have been served: sending
 *   it again could mint a second key or spend a verify's time step, so it fails.
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

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** POSTs whose contract makes them idempotent: `POST /v1/import/{format}`. */
const IDEMPOTENT_POST = /\/v1\/import\/[^/]+$/;

const idempotent = (request: Request) =>
  IDEMPOTENT.has(request.method) ||
  (request.method === 'POST' && IDEMPOTENT_POST.test(new URL(request.url).pathname));

/** Whether an answer of `status` may be met by sending `request` again. */
const retriedStatus = (status: number, request: Request) =>
  status === 429 || (status === 503 && idempotent(request));
/** Errors raised before a request left this machine (undici's and the OS's codes). */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

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

function errorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `fetch`, with the retries above. */
export function retryingFetch(inner: typeof fetch, policy: RetryPolicy): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= policy.retries;
      let response: Response;
      try {
        response = await inner(request.clone());
      } catch (error) {
        const code = errorCode(error);
        const safe = idempotent(request) || (code !== undefined && NEVER_SENT.has(code));
        if (last || !safe || request.signal.aborted) throw error;
        await sleep(backoffMs(policy, attempt));
        continue;
      }
      if (last || !retriedStatus(response.status, request)) return response;
      const asked = retryAfterMs(response.headers.get('retry-after'));
      if (asked !== undefined && asked > policy.maxRetryAfterMs) return response;
      await response.body?.cancel();
      await sleep(asked ?? backoffMs(policy, attempt));
    }
  };
}

/**
 * Safe retries (`Idempotency-Key`): the rules, with no storage in them.
 *
 * A key names one request of one caller (a tenant, or the operator) for 24 hours.
 * What is remembered of it, as time passes:
 *
 *   absent ──first request──▶ in flight ──answered 2xx/4xx──▶ answered (replayed until expiry)
 *                               │    └──answered 5xx / failed──▶ absent (the retry is carried out)
 *                               └──lease over (its process died)──▶ absent
 *
 * A request under a key that is answered, with another method, path, query or body
 * (another fingerprint), is refused: the caller reused a key, and replaying an answer
 * to another request would tell it something false. A verify keeps its answers on
 * the user's item instead (`VerifyMemory`), in the write it makes anyway.
 */

/** How long an answer is remembered. */
export const REMEMBER_MS = 24 * 3_600_000;

/**
 * How long a request in flight holds its key. No request runs longer than API
 * Gateway's 30 s; one held longer died with its process, and its key is free again.
 */
export const LEASE_MS = 30_000;

/** What `Retry-After` tells a request that meets its key in flight: most requests take well under a second. */
export const IN_FLIGHT_RETRY_SECONDS = 1;

/** 1 to 255 printable ASCII characters, as the contract says. */
export const isIdempotencyKey = (value: string) => /^[\x20-\x7e]{1,255}$/.test(value);

/** An answer as the caller received it: what a replay sends again. */
export interface Answer {
  status: number;
  /** The headers the route set (content type, a 423's Retry-After); the stack adds the rest. */
  headers: Record<string, string>;
  /** The JSON body as sent; empty for a 204. */
  body: string;
}

/** Whether an answer is remembered: every answer but a 5xx, which the retry carries out again. */
export const isRemembered = (answer: Answer) => answer.status < 500;

/**
 * What the store holds for a key: the request's fingerprint, and its answer once it
 * has one, sealed (`sealedFor`: the tenant whose key sealed it) or, for an operator
 * answer that names no live tenant and so holds no secret, plain.
 */
export interface RequestMemory {
  fingerprint: Uint8Array;
  /** The request that holds the key, while it is in flight. */
  token: string;
  leaseUntil: number;
  expiresAt: number;
  answer?: StoredAnswer;
}

export interface StoredAnswer {
  status: number;
  body: Uint8Array;
  /** The tenant under whose key `body` is sealed; absent when it is plain. */
  sealedFor?: string;
}

/** What a request meets under its key. */
export type Recall =
  | { kind: 'absent' }
  | { kind: 'in_flight' }
  | { kind: 'answered'; answer: StoredAnswer }
  | { kind: 'reused' };

/** How a memory read now answers a request with `fingerprint`; `same` compares in constant time. */
export function recall(
  memory: RequestMemory | undefined,
  fingerprint: Uint8Array,
  nowMs: number,
  same: (a: Uint8Array, b: Uint8Array) => boolean,
): Recall {
  if (memory === undefined || memory.expiresAt <= nowMs) return { kind: 'absent' };
  if (!same(memory.fingerprint, fingerprint)) return { kind: 'reused' };
  if (memory.answer) return { kind: 'answered', answer: memory.answer };
  return memory.leaseUntil <= nowMs ? { kind: 'absent' } : { kind: 'in_flight' };
}

/**
 * A verify's answer, kept on the user's item by the write that checks the code
 * (lib/usecases/verify.ts): the answer sealed, keyed by the key's slot.
 */
export interface VerifyMemory {
  fingerprint: Uint8Array;
  sealedAnswer: Uint8Array;
  at: number;
}

/** A user keeps the answers of its last few verifies under a key: a retry comes within seconds. */
export const VERIFY_MEMORIES = 4;

/**
 * The slots a verify write removes beside the one it adds: the expired ones, and the
 * oldest beyond VERIFY_MEMORIES - 1, so that the item stays small.
 */
export function memoriesToDrop(memories: ReadonlyMap<string, VerifyMemory>, nowMs: number): string[] {
  const byAge = [...memories].sort(([, a], [, b]) => b.at - a.at);
  return byAge
    .filter(([, memory], index) => index >= VERIFY_MEMORIES - 1 || memory.at + REMEMBER_MS <= nowMs)
    .map(([slot]) => slot);
}

/** The verify memory for `slot` that still counts at `nowMs`. */
export const liveMemory = (
  memories: ReadonlyMap<string, VerifyMemory> | undefined,
  slot: string,
  nowMs: number,
): VerifyMemory | undefined => {
  const memory = memories?.get(slot);
  return memory !== undefined && memory.at + REMEMBER_MS > nowMs ? memory : undefined;
};

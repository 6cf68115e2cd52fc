import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { logger } from '../observability/logger.ts';
import {
  type Answer,
  IN_FLIGHT_RETRY_SECONDS,
  isIdempotencyKey,
  isRemembered,
  recall,
  type StoredAnswer,
} from '../domain/idempotency.ts';
import type { TenantRecord } from '../domain/records.ts';
import {
  type AnswerPlace,
  type IdempotentCall,
  OPERATOR_FINGERPRINT_KEY,
  openAnswer,
  requestFingerprint,
  sealAnswer,
  slotOf,
} from '../crypto/idempotency.ts';
import { sameBytes } from '../crypto/hashes.ts';
import { ApiError, idempotencyInFlight, idempotencyKeyReused, invalidRequest } from '../errors.ts';
import type { RequestScope } from '../store/port.ts';
import { errorBody } from './respond.ts';
import type { Event, Result } from './types.ts';

export type { IdempotentCall };

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The request's Idempotency-Key, if it is a mutating request that sent one; a key
 * outside the contract's 1 to 255 printable ASCII characters is a 400 naming it.
 */
export function idempotentCall(event: Event): IdempotentCall | undefined {
  const method = event.requestContext?.http?.method ?? event.routeKey.split(' ')[0] ?? '';
  const key = event.headers?.['idempotency-key'];
  if (key === undefined || !MUTATING.has(method)) return undefined;
  if (!isIdempotencyKey(key)) {
    throw invalidRequest('Idempotency-Key must be 1 to 255 printable ASCII characters');
  }
  const body = event.body ?? '';
  return {
    slot: slotOf(key),
    identity: {
      routeKey: event.routeKey,
      params: event.pathParameters ?? {},
      query: event.rawQueryString ?? '',
      body: event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body,
    },
  };
}

/** How one caller's memories are kept: where, under which fingerprint key, sealed how. */
export interface Remembering {
  scope: RequestScope;
  fingerprintKey(): Promise<Uint8Array>;
  /** Seals an answer to keep. */
  keep(slot: string, answer: Answer): Promise<StoredAnswer>;
  /** Opens a kept answer; undefined when it cannot be opened any more (its tenant was deleted). */
  recover(slot: string, stored: StoredAnswer): Promise<Answer | undefined>;
}

/** A tenant key's requests: every answer sealed under the tenant's key. */
export function tenantRemembering(deps: Deps, tenant: TenantRecord): Remembering {
  const keys = () => deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  const place: AnswerPlace = { kind: 'tenant', tenantId: tenant.tenantId };
  return {
    scope: { tenantId: tenant.tenantId },
    fingerprintKey: async () => (await keys()).requests,
    keep: async (slot, answer) => ({
      status: answer.status,
      body: sealAnswer(await keys(), place, slot, sealable(answer)),
      sealedFor: tenant.tenantId,
    }),
    recover: async (slot, stored) => unsealed(stored, openAnswer(await keys(), place, slot, stored.body)),
  };
}

/**
 * The operator's requests. Its answers that hold a secret (a new tenant's first key, a
 * key made for a tenant) name a live tenant, and are sealed under that tenant's key:
 * they die with it. An answer that names no live tenant (a refused creation, a
 * deletion) holds no secret, and is kept plain.
 */
export function operatorRemembering(deps: Deps, tenantIdOf: () => string | undefined): Remembering {
  const liveKeys = async (tenantId: string | undefined) => {
    if (tenantId === undefined) return undefined;
    const { tenant } = await deps.store.loadContext({ tenantId });
    if (!tenant || tenant.deletedAt !== undefined) return undefined;
    return deps.keyring.keysFor(tenantId, tenant.wrappedDataKey);
  };
  return {
    scope: 'operator',
    fingerprintKey: async () => OPERATOR_FINGERPRINT_KEY,
    keep: async (slot, answer) => {
      const tenantId = tenantIdOf();
      const keys = await liveKeys(tenantId);
      if (keys === undefined || tenantId === undefined) {
        return { status: answer.status, body: Buffer.from(sealable(answer), 'utf8') };
      }
      const place: AnswerPlace = { kind: 'operator', tenantId };
      return {
        status: answer.status,
        body: sealAnswer(keys, place, slot, sealable(answer)),
        sealedFor: tenantId,
      };
    },
    recover: async (slot, stored) => {
      if (stored.sealedFor === undefined) return unsealed(stored, Buffer.from(stored.body).toString('utf8'));
      const keys = await liveKeys(stored.sealedFor);
      if (keys === undefined) return undefined;
      const place: AnswerPlace = { kind: 'operator', tenantId: stored.sealedFor };
      return unsealed(stored, openAnswer(keys, place, slot, stored.body));
    },
  };
}

// The route's headers as JSON on the first line, the body as it was sent after it: a
// body kept as is, not escaped into JSON, so that the largest (an import's 1,000
// results) stays well inside an item.
const sealable = (answer: Answer) => `${JSON.stringify(answer.headers)}\n${answer.body}`;
const unsealed = (stored: StoredAnswer, text: string): Answer => {
  const newline = text.indexOf('\n');
  const headers = JSON.parse(text.slice(0, newline)) as Record<string, string>;
  return { status: stored.status, headers, body: text.slice(newline + 1) };
};

/** An answer sent again under its Idempotency-Key says so. */
export const markReplayed = (result: Result): Result => ({
  ...result,
  headers: { ...result.headers, 'idempotent-replayed': 'true' },
});

/** A remembered answer, sent again. */
const replayed = (answer: Answer): Result =>
  markReplayed({ statusCode: answer.status, headers: answer.headers, body: answer.body });

/** What a route's answer or error is, as a caller received it: an error as errorMapper shapes it. */
type Outcome = { kind: 'result'; result: Result } | { kind: 'error'; error: ApiError };

function answerOf(outcome: Outcome): Answer {
  if (outcome.kind === 'result') {
    const { statusCode, headers, body } = outcome.result;
    return {
      status: statusCode ?? 200,
      headers: Object.fromEntries(
        Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]),
      ),
      body: typeof body === 'string' ? body : '',
    };
  }
  const { error } = outcome;
  return {
    status: error.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...error.headers },
    body: JSON.stringify(errorBody(error.code, error.message)),
  };
}

/**
 * Serves a request sent with an Idempotency-Key at most once (lib/domain/idempotency.ts):
 * takes the key (one conditional write), serves, keeps the answer (one more write),
 * or frees the key when the answer is a 5xx or the route failed, so the retry is
 * carried out. A key held by another request answers that one's answer, a 409 while
 * it runs, or a 422 when it was another request.
 */
export async function serveOnce(
  deps: Deps,
  call: IdempotentCall,
  remembering: Remembering,
  serve: () => Promise<Result>,
): Promise<Result> {
  const { store } = deps;
  const fingerprint = requestFingerprint(await remembering.fingerprintKey(), call.identity);
  const token = randomUUID();
  const nowMs = deps.now();
  const held = await store.beginRequest(remembering.scope, call.slot, { fingerprint, token, nowMs });
  if (held !== undefined) {
    const met = recall(held, fingerprint, nowMs, sameBytes);
    if (met.kind === 'reused') throw idempotencyKeyReused();
    if (met.kind === 'answered') {
      const answer = await remembering.recover(call.slot, met.answer);
      if (answer === undefined) {
        throw idempotencyKeyReused(
          "this Idempotency-Key's answer was destroyed with the tenant it named; send a new key",
        );
      }
      return replayed(answer);
    }
    // In flight (or freed between the write and its read, which a retry settles).
    throw idempotencyInFlight(IN_FLIGHT_RETRY_SECONDS);
  }
  let outcome: Outcome;
  try {
    outcome = { kind: 'result', result: await serve() };
  } catch (error) {
    // Not an answer of the contract (a defect: a 500): nothing to keep.
    if (!(error instanceof ApiError)) {
      await forget(deps, remembering, call, token);
      throw error;
    }
    outcome = { kind: 'error', error };
  }
  const answer = answerOf(outcome);
  if (isRemembered(answer) && Buffer.byteLength(answer.body) <= MAX_KEPT_BYTES) {
    try {
      await store.finishRequest(
        remembering.scope,
        call.slot,
        token,
        await remembering.keep(call.slot, answer),
      );
    } catch (error) {
      // A defect of ours (a malformed write) is a 500 like any other.
      if (!(error instanceof ApiError)) throw error;
      // The store is unavailable, or the request's time is up: the work is done and this is
      // its answer, which the caller gets. Unkept, the key stays in flight until its lease
      // ends (LEASE_MS); a retry after that is served again.
      logger().warn('an answer under an Idempotency-Key was not kept', {
        cause: error instanceof Error ? error.message : String(error),
      });
    }
  } else {
    await forget(deps, remembering, call, token);
  }
  if (outcome.kind === 'error') throw outcome.error;
  return outcome.result;
}

/**
 * The largest answer kept: a DynamoDB item holds 400 KB. No answer of ours comes near
 * (an import's 1,000 results are about 100 KB); one that did would free its key, and
 * its retry would be carried out again, as without a key.
 */
const MAX_KEPT_BYTES = 300_000;

/** Frees the key after a failure; if even that fails, its lease frees it (LEASE_MS). */
async function forget(deps: Deps, remembering: Remembering, call: IdempotentCall, token: string) {
  try {
    await deps.store.forgetRequest(remembering.scope, call.slot, token);
  } catch (error) {
    // The request is failing already, and its answer says so; the lease ends the hold.
    logger().warn('an Idempotency-Key was not freed after a failure', {
      cause: error instanceof Error ? error.message : String(error),
    });
  }
}

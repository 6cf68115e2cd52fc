import { open, seal } from './aesGcm.ts';
import { hmac, sha256 } from './hashes.ts';
import type { TenantKeys } from './tenantKeys.ts';

/**
 * The cryptography of remembered requests (lib/domain/idempotency.ts): where a key is
 * kept, how a request is recognised, and how its answer is sealed. The store sees
 * neither the key, nor the body, nor the answer: a hash, a keyed hash, a ciphertext.
 */

/** Where a key's memory is kept: its SHA-256, so that no caller's string reaches a store key. */
export const slotOf = (idempotencyKey: string): string => sha256(idempotencyKey).toString('hex');

/** What makes two requests the same one: the route, its path parameters, query and body. */
export interface RequestIdentity {
  routeKey: string;
  params: Record<string, string | undefined>;
  query: string;
  body: string;
}

/** A request sent with an Idempotency-Key: where its memory is kept, and what it is. */
export interface IdempotentCall {
  slot: string;
  identity: RequestIdentity;
}

/**
 * A request's fingerprint, keyed with the tenant's `requests` key: a verify's body is
 * a code, and a plain hash of six digits is the code to anyone who tries a million.
 */
export const requestFingerprint = (macKey: Uint8Array, request: RequestIdentity): Buffer =>
  hmac(
    macKey,
    JSON.stringify([
      request.routeKey,
      Object.entries(request.params).sort(([a], [b]) => (a < b ? -1 : 1)),
      request.query,
      request.body,
    ]),
  );

/**
 * The operator's requests are keyed with a constant: their bodies (a tenant id, an
 * issuer, a key's name and scopes) hold nothing secret, and no tenant key exists yet
 * when a tenant is created.
 */
export const OPERATOR_FINGERPRINT_KEY = Buffer.from('tfa/operator-requests', 'utf8');

/** Who remembers: a tenant's requests, the operator's about a tenant, or a user's verifies. */
export type AnswerPlace =
  | { kind: 'tenant'; tenantId: string }
  | { kind: 'operator'; tenantId: string }
  | { kind: 'verify'; tenantId: string; userId: string };

// The AAD binds an answer to its place and key: copied to another slot, user or tenant, it does not open.
const aad = (place: AnswerPlace, slot: string) =>
  [
    'tfa-remembered-answer',
    place.kind,
    place.tenantId,
    place.kind === 'verify' ? place.userId : '',
    slot,
  ].join('\0');

export const sealAnswer = (keys: TenantKeys, place: AnswerPlace, slot: string, body: string): Buffer =>
  seal(keys.secrets, Buffer.from(body, 'utf8'), aad(place, slot));

/** Throws SealError when the answer is not this place's and slot's. */
export const openAnswer = (keys: TenantKeys, place: AnswerPlace, slot: string, sealed: Uint8Array): string =>
  open(keys.secrets, sealed, aad(place, slot)).toString('utf8');

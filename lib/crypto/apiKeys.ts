import { randomBytes } from 'node:crypto';
import type { ApiKeyRecord, Scope } from '../domain/records.ts';
import { hmac, sameBytes, sha256 } from './hashes.ts';

/**
 * API keys look like `tfa.<tenant>.<key id>.<secret>`: the tenant and key id let
 * one read find the key; the secret is 256 random bits, stored only as an HMAC
 * under a per-key salt. High-entropy keys need no slow password hash.
 */
const TOKEN = /^tfa\.([a-z0-9][a-z0-9-]{0,62})\.([a-z0-9]{16})\.([A-Za-z0-9_-]{43})$/;

export interface ParsedKey {
  tenantId: string;
  keyId: string;
  secret: string;
}

export function parseApiKey(token: string): ParsedKey | undefined {
  const match = TOKEN.exec(token);
  if (!match) return undefined;
  const [, tenantId = '', keyId = '', secret = ''] = match;
  return { tenantId, keyId, secret };
}

export const keyMatches = (key: ApiKeyRecord, secret: string): boolean =>
  sameBytes(hmac(key.salt, secret), key.hash);

/** The operator key is compared by its SHA-256, so only the hash need be deployed. */
export const operatorKeyMatches = (token: string, expectedHash: Buffer | undefined): boolean =>
  expectedHash !== undefined && sameBytes(sha256(token), expectedHash);

export function newApiKey(tenantId: string, name: string, scopes: Scope[], nowMs: number) {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16);
  const record: ApiKeyRecord = {
    tenantId,
    id,
    name,
    scopes,
    salt,
    hash: hmac(salt, secret),
    createdAt: nowMs,
  };
  return { record, token: `tfa.${tenantId}.${id}.${secret}` };
}

import { randomBytes } from 'node:crypto';
import { hmac, sameBytes, sha256 } from './crypto/hashes.ts';
import type { TenantContext } from './context.ts';
import { isPrintable } from './domain/identifiers.ts';
import { invalidRequest, notFound } from './errors.ts';
import { type ApiKeyRecord, SCOPES, type Scope } from './store/records.ts';

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

export const keyView = (key: ApiKeyRecord) => ({
  id: key.id,
  name: key.name,
  scopes: key.scopes,
  createdAt: new Date(key.createdAt).toISOString(),
});

export function parseKeyRequest(body: Record<string, unknown> | undefined): {
  name: string;
  scopes: Scope[];
} {
  const name = body?.name;
  if (typeof name !== 'string') throw invalidRequest('name is required and must be a string');
  if (name.length === 0 || !isPrintable(name, 64))
    throw invalidRequest('name must be 1 to 64 printable characters');
  const scopes = body?.scopes;
  if (!Array.isArray(scopes) || scopes.length === 0) throw invalidRequest('scopes must be a non-empty array');
  for (const scope of scopes) {
    if (!SCOPES.includes(scope as Scope)) throw invalidRequest(`scopes may hold only ${SCOPES.join(', ')}`);
  }
  return { name, scopes: [...new Set(scopes as Scope[])] };
}

export async function createKey(ctx: TenantContext, body: Record<string, unknown> | undefined) {
  const { name, scopes } = parseKeyRequest(body);
  const { record, token } = newApiKey(ctx.tenant.tenantId, name, scopes, ctx.deps.now());
  await ctx.deps.store.putKey(record);
  await ctx.audit({ action: 'key_create', outcome: 'success', reason: describeKey(record) });
  return { ...keyView(record), secret: token };
}

export async function listKeys({ deps, tenant }: TenantContext) {
  const keys = await deps.store.listKeys(tenant.tenantId);
  return { keys: keys.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)).map(keyView) };
}

export async function deleteKey(ctx: TenantContext, keyId: string | undefined) {
  const { deps } = ctx;
  const tenantId = ctx.tenant.tenantId;
  // Key ids are 16 hex characters; anything else cannot name a key of this tenant.
  const deleted =
    keyId !== undefined && /^[a-z0-9]{16}$/.test(keyId)
      ? await deps.store.deleteKey(tenantId, keyId)
      : undefined;
  if (!deleted) throw notFound('key_not_found', 'no such key');
  await ctx.audit({ action: 'key_delete', outcome: 'success', reason: describeKey(deleted) });
}

/**
 * Names a key in the audit trail: its id, name and scopes, never its secret. As
 * JSON, so that no key name can forge the text around it (`x" scopes admin`).
 */
const describeKey = (key: ApiKeyRecord) =>
  JSON.stringify({ keyId: key.id, name: key.name, scopes: key.scopes });

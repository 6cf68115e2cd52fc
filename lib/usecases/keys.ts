import { newApiKey } from '../crypto/apiKeys.ts';
import type { ApiKeyRecord, Scope } from '../domain/records.ts';
import { ApiError } from '../errors.ts';
import type { TenantContext } from './context.ts';

export interface NewKey {
  name: string;
  scopes: Scope[];
}

export const keyView = (key: ApiKeyRecord) => ({
  id: key.id,
  name: key.name,
  scopes: key.scopes,
  createdAt: new Date(key.createdAt).toISOString(),
});

/** POST /v1/keys: the secret is in this answer only; the store keeps its HMAC. */
export async function createKey(ctx: TenantContext, input: NewKey) {
  const { record, token } = newApiKey(ctx.tenant.tenantId, input.name, input.scopes, ctx.deps.now());
  await ctx.deps.store.putKey(record);
  await ctx.audit({ action: 'key_create', outcome: 'success', reason: describeKey(record) });
  return { ...keyView(record), secret: token };
}

/** GET /v1/keys: never a secret. */
export async function listKeys({ deps, tenant }: TenantContext) {
  const keys = await deps.store.listKeys(tenant.tenantId);
  return { keys: keys.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)).map(keyView) };
}

/** DELETE /v1/keys/{id}: the key stops working at once (keys are read on every request). */
export async function deleteKey(ctx: TenantContext, keyId: string | undefined) {
  const { deps } = ctx;
  const tenantId = ctx.tenant.tenantId;
  // Key ids are 16 hex characters; anything else cannot name a key of this tenant.
  const deleted =
    keyId !== undefined && /^[a-z0-9]{16}$/.test(keyId)
      ? await deps.store.deleteKey(tenantId, keyId)
      : undefined;
  if (!deleted) throw new ApiError('key_not_found', 'no such key');
  await ctx.audit({ action: 'key_delete', outcome: 'success', reason: describeKey(deleted) });
}

/**
 * Names a key in the audit trail: its id, name and scopes, never its secret. As
 * JSON, so that no key name can forge the text around it (`x" scopes admin`).
 */
const describeKey = (key: ApiKeyRecord) =>
  JSON.stringify({ keyId: key.id, name: key.name, scopes: key.scopes });

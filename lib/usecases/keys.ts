import { newApiKey } from '../crypto/apiKeys.ts';
import type { ApiKeyRecord, Scope } from '../domain/records.ts';
import { keyNotFound, lastAdminKey, tenantNotFound } from '../errors.ts';
import { publishEvents, securityEvent, wanted } from './events.ts';
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

/**
 * POST /v1/keys: the secret is in this answer only; the store keeps its HMAC. An admin
 * key is written, then named in the tenant's admin key ids, without which its admin
 * scope counts for nothing.
 */
export async function createKey(ctx: TenantContext, input: NewKey) {
  const { deps, tenant } = ctx;
  const { record, token } = newApiKey(tenant.tenantId, input.name, input.scopes, deps.now());
  const events = await wanted(ctx, [keyEvent(ctx, 'tfa.key.created', record)]);
  await deps.store.putKey(record, events);
  await publishEvents(ctx, deps.store.keyRef(tenant.tenantId, record.id), events);
  if (record.scopes.includes('admin') && !(await deps.store.grantAdmin(tenant.tenantId, record.id))) {
    throw tenantNotFound();
  }
  await ctx.audit({ action: 'key_create', outcome: 'success', reason: describeKey(record) });
  return { ...keyView(record), secret: token };
}

/** GET /v1/keys: never a secret. */
export async function listKeys({ deps, tenant }: TenantContext) {
  const keys = await deps.store.listKeys(tenant.tenantId);
  return { keys: keys.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)).map(keyView) };
}

/**
 * DELETE /v1/keys/{id}: the key stops working at once (keys are read on every
 * request). The tenant's last admin key stays: taking a key out of the admin key ids
 * is one conditional write that keeps at least one, so two admins deleting each
 * other's keys at once leave one.
 */
export async function deleteKey(ctx: TenantContext, keyId: string | undefined) {
  const { deps, tenant } = ctx;
  const { tenantId } = tenant;
  // Key ids are 16 hex characters; anything else cannot name a key of this tenant.
  if (keyId === undefined || !/^[a-z0-9]{16}$/.test(keyId)) throw keyNotFound();
  // Read first: the event of its deletion, in the deleting write, names it.
  const key = await deps.store.getKey(tenantId, keyId);
  if (!key) throw keyNotFound();
  if (tenant.adminKeyIds === undefined) {
    // A tenant made before the admin key ids: name its admin keys once, then guard them.
    const keys = await deps.store.listKeys(tenantId);
    await deps.store.initAdminKeys(
      tenantId,
      keys.filter((key) => key.scopes.includes('admin')).map((key) => key.id),
    );
  }
  if ((await deps.store.revokeAdmin(tenantId, keyId)) === 'last') {
    throw lastAdminKey();
  }
  const events = await wanted(ctx, [keyEvent(ctx, 'tfa.key.deleted', key)]);
  const deleted = await deps.store.deleteKey(tenantId, keyId, events);
  if (!deleted) throw keyNotFound();
  await publishEvents(ctx, deps.store.keyRef(tenantId, keyId), events);
  await ctx.audit({ action: 'key_delete', outcome: 'success', reason: describeKey(deleted) });
}

/**
 * Names a key in the audit trail: its id, name and scopes, never its secret. As
 * JSON, so that no key name can forge the text around it (`x" scopes admin`).
 */
const describeKey = (key: ApiKeyRecord) =>
  JSON.stringify({ keyId: key.id, name: key.name, scopes: key.scopes });

const keyEvent = (ctx: TenantContext, type: 'tfa.key.created' | 'tfa.key.deleted', key: ApiKeyRecord) =>
  securityEvent(ctx, type, null, { keyId: key.id, name: key.name, scopes: key.scopes });

import { newApiKey } from '../crypto/apiKeys.ts';
import { hmac } from '../crypto/hashes.ts';
import { decodeCursor, encodeCursor } from '../crypto/cursors.ts';
import type { Deps } from '../deps.ts';
import { isTenantId } from '../domain/identifiers.ts';
import type { TenantRecord } from '../domain/records.ts';
import { applySettingsPatch, defaultSettings } from '../domain/settings.ts';
import { serviceUnavailable, settingsRefused, tenantExists, tenantNotFound } from '../errors.ts';
import { logger } from '../observability/logger.ts';
import { OPERATOR, tenantContext } from './context.ts';
import { createKey, type NewKey } from './keys.ts';

export interface NewTenant {
  tenantId: string;
  /** Judged by the settings rule of PATCH /v1/settings, with its own error code. */
  issuer: unknown;
}

/**
 * POST /v1/tenants: the tenant, its data key (the one KMS GenerateDataKey call), and a
 * bootstrap admin key. The key is written first: until the tenant's item exists it
 * opens nothing, so a failure at either write leaves no tenant without a key, and a
 * retry with the same id simply works.
 */
export async function createTenant(deps: Deps, input: NewTenant) {
  const { tenantId } = input;
  // The issuer obeys the rule of PATCH /v1/settings; it defaults to the tenant id.
  const initial = applySettingsPatch(
    defaultSettings(tenantId),
    input.issuer === undefined ? {} : { issuer: input.issuer },
  );
  if (!initial.ok) throw settingsRefused(initial.problem);
  const { settings } = initial;
  if (await deps.store.getTenant(tenantId)) throw tenantExists();

  const dataKey = await deps.vault.generateDataKey(tenantId);
  dataKey.plaintext.fill(0);
  // The data key first, in its own table (a leftover of a failed creation is adopted).
  const wrappedDataKey = await deps.store.putDataKey(tenantId, dataKey.wrapped);
  const createdAt = deps.now();
  const { record, token } = newApiKey(tenantId, 'bootstrap', ['admin'], createdAt);
  await deps.store.putKey(record);
  const tenant: TenantRecord = {
    tenantId,
    settings,
    createdAt,
    wrappedDataKey,
    revision: 0,
    adminKeyIds: [record.id],
  };
  // If the tenant's write fails or loses a race for the id, our key opens nothing; take it away.
  const created = await deps.store.createTenant(tenant).catch(async (error: unknown) => {
    await deps.store.deleteKey(tenantId, record.id).catch(() => undefined);
    throw error;
  });
  if (!created) {
    await deps.store.deleteKey(tenantId, record.id).catch(() => undefined);
    throw tenantExists();
  }
  // Nothing to count from before: the enrolment counts start complete. (Without this
  // record, after a crash here, the first report walks the few users there are.)
  await deps.store.startCounting(tenantId);
  return {
    tenantId,
    issuer: settings.issuer,
    apiKey: { id: record.id, secret: token, name: record.name, scopes: record.scopes },
  };
}

const tenantView = (tenant: TenantRecord) => ({
  tenantId: tenant.tenantId,
  issuer: tenant.settings.issuer,
  policy: tenant.settings.policy,
  createdAt: new Date(tenant.createdAt).toISOString(),
});

/** GET /v1/tenants/{tenantId}: a deleted tenant whose purge is not done reads `"deleted": true`. */
export async function getTenant(deps: Deps, tenantId: string | undefined) {
  const tenant =
    tenantId !== undefined && isTenantId(tenantId) ? await deps.store.getTenant(tenantId) : undefined;
  if (!tenant) throw tenantNotFound();
  return { ...tenantView(tenant), ...(tenant.deletedAt === undefined ? {} : { deleted: true }) };
}

export interface TenantListQuery {
  limit: number;
  cursor: string | undefined;
}

const TENANT_LIST = 'tenants';

/**
 * GET /v1/tenants: live tenants in tenant-id order. The cursor is signed with a key
 * derived from the operator key's hash, which only the service holds; a deleted
 * tenant is not listed (GET /v1/tenants/{id} tells how its purge stands).
 */
export async function listTenants(deps: Deps, query: TenantListQuery) {
  const operatorHash = await deps.operatorKey.hash();
  if (!operatorHash) throw serviceUnavailable('the operator key');
  const key = hmac(operatorHash, 'tfa/tenant-list-cursor');
  let after = query.cursor === undefined ? undefined : decodeCursor(key, '', TENANT_LIST, query.cursor);
  const found: TenantRecord[] = [];
  // Deleted tenants are skipped: a few more reads of the index at most, never unbounded.
  for (let round = 0; round < 3; round++) {
    const page = await deps.store.listTenants(after, query.limit + 1 - found.length);
    for (const tenant of page.tenants) {
      if (tenant.deletedAt !== undefined) continue;
      if (found.length === query.limit) {
        return {
          tenants: found.map(tenantView),
          nextCursor: encodeCursor(key, '', TENANT_LIST, after ?? ''),
        };
      }
      found.push(tenant);
      after = tenant.tenantId;
    }
    after = page.tenants.at(-1)?.tenantId ?? after;
    if (!page.more) return { tenants: found.map(tenantView), nextCursor: null };
  }
  return {
    tenants: found.map(tenantView),
    nextCursor: after === undefined ? null : encodeCursor(key, '', TENANT_LIST, after),
  };
}

/**
 * POST /v1/tenants/{tenantId}/keys: the operator's way back in for a tenant that lost
 * its admin keys; in the tenant's audit trail as made by the operator.
 */
export async function createOperatorKey(
  deps: Deps,
  tenantId: string | undefined,
  input: NewKey,
  requestId: string,
) {
  const tenant =
    tenantId !== undefined && isTenantId(tenantId) ? await deps.store.getTenant(tenantId) : undefined;
  if (!tenant || tenant.deletedAt !== undefined) throw tenantNotFound();
  return createKey(tenantContext(deps, tenant, OPERATOR, requestId), input);
}

/**
 * DELETE /v1/tenants/{tenantId}: crypto-shredding first (the wrapped data key is
 * gone before the answer, and every request reads the tenant's item, so no warm
 * Lambda serves it from a cached key), then the purge of its items in the background.
 */
export async function deleteTenant(
  deps: Deps,
  tenantId: string | undefined,
  reason: string,
  requestId: string,
) {
  if (
    tenantId === undefined ||
    !isTenantId(tenantId) ||
    !(await deps.store.shredTenant(tenantId, deps.now(), reason))
  ) {
    throw tenantNotFound();
  }
  logger().warn('tenant deleted', { tenant: tenantId, reason, requestId });
  await deps.purgeQueue.enqueue({ tenantId });
  return { tenantId, deleted: true };
}

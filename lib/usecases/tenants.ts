import { newApiKey } from '../crypto/apiKeys.ts';
import type { Deps } from '../deps.ts';
import { isTenantId } from '../domain/identifiers.ts';
import type { TenantRecord } from '../domain/records.ts';
import { applySettingsPatch, defaultSettings } from '../domain/settings.ts';
import { ApiError, serviceUnavailable, tenantNotFound } from '../errors.ts';
import { settingsRefused } from './settings.ts';

export interface NewTenant {
  tenantId: string;
  /** Judged by the settings rule of PATCH /v1/settings, with its own error code. */
  issuer: unknown;
}

/** POST /v1/tenants: the tenant, its data key (the one KMS GenerateDataKey call), and a bootstrap admin key. */
export async function createTenant(deps: Deps, input: NewTenant) {
  const { tenantId } = input;
  // The issuer obeys the rule of PATCH /v1/settings; it defaults to the tenant id.
  const initial = applySettingsPatch(
    defaultSettings(tenantId),
    input.issuer === undefined ? {} : { issuer: input.issuer },
  );
  if (!initial.ok) throw settingsRefused(initial.problem);
  const { settings } = initial;

  const dataKey = await deps.vault.generateDataKey(tenantId);
  dataKey.plaintext.fill(0);
  const tenant: TenantRecord = {
    tenantId,
    settings,
    createdAt: deps.now(),
    wrappedDataKey: dataKey.wrapped,
    revision: 0,
  };
  if (!(await deps.store.createTenant(tenant))) {
    throw new ApiError('tenant_exists', 'a tenant with this id exists');
  }

  const { record, token } = newApiKey(tenantId, 'bootstrap', ['admin'], tenant.createdAt);
  try {
    await deps.store.putKey(record);
  } catch (error) {
    // A tenant without its bootstrap key could never be administered: undo it so the
    // operator can simply retry.
    await deps.store.deleteTenant(tenantId).catch(() => undefined);
    throw serviceUnavailable('the database', error);
  }
  return {
    tenantId,
    issuer: settings.issuer,
    apiKey: { id: record.id, secret: token, name: record.name, scopes: record.scopes },
  };
}

/** GET /v1/tenants/{tenantId}. */
export async function getTenant(deps: Deps, tenantId: string | undefined) {
  const tenant =
    tenantId !== undefined && isTenantId(tenantId) ? await deps.store.getTenant(tenantId) : undefined;
  if (!tenant) throw tenantNotFound();
  return {
    tenantId: tenant.tenantId,
    issuer: tenant.settings.issuer,
    policy: tenant.settings.policy,
    createdAt: new Date(tenant.createdAt).toISOString(),
  };
}

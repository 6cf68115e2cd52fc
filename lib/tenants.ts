import { newApiKey } from './apiKeys.ts';
import type { Deps } from './deps.ts';
import { isTenantId } from './domain/identifiers.ts';
import { applySettingsPatch, defaultSettings, type SettingsProblem } from './domain/settings.ts';
import { ApiError, conflict, invalidRequest, notFound, serviceUnavailable } from './errors.ts';
import type { TenantContext } from './context.ts';
import type { TenantRecord } from './store/records.ts';

/** A settings rule refused a value: the domain names the contract's code and the field. */
const refused = (problem: SettingsProblem) => new ApiError(400, problem.code, problem.message);

/** POST /v1/tenants: the tenant, its data key (the one KMS GenerateDataKey call), and a bootstrap admin key. */
export async function createTenant(deps: Deps, body: Record<string, unknown> | undefined) {
  const tenantId = body?.tenantId;
  if (typeof tenantId !== 'string') throw invalidRequest('tenantId is required and must be a string');
  if (!isTenantId(tenantId)) {
    throw new ApiError(
      400,
      'invalid_tenant_id',
      'tenantId must be 1 to 63 characters of a-z 0-9 -, not starting with -',
    );
  }
  // The issuer obeys the rule of PATCH /v1/settings; it defaults to the tenant id.
  const initial = applySettingsPatch(
    defaultSettings(tenantId),
    body?.issuer === undefined ? {} : { issuer: body.issuer },
  );
  if (!initial.ok) throw refused(initial.problem);
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
  if (!(await deps.store.createTenant(tenant)))
    throw conflict('tenant_exists', 'a tenant with this id exists');

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

export async function getTenant(deps: Deps, tenantId: string | undefined) {
  const tenant =
    tenantId !== undefined && isTenantId(tenantId) ? await deps.store.getTenant(tenantId) : undefined;
  if (!tenant) throw notFound('tenant_not_found', 'no such tenant');
  return {
    tenantId: tenant.tenantId,
    issuer: tenant.settings.issuer,
    policy: tenant.settings.policy,
    createdAt: new Date(tenant.createdAt).toISOString(),
  };
}

export const settingsView = (tenant: TenantRecord) => ({ tenantId: tenant.tenantId, ...tenant.settings });

/** PATCH /v1/settings: validate against the contract's rules, then an optimistic write on the revision. */
export async function patchSettings(ctx: TenantContext, body: Record<string, unknown> | undefined) {
  const { deps, tenant } = ctx;
  if (body === undefined) throw invalidRequest('a JSON object of settings is required');
  let current = tenant;
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = applySettingsPatch(current.settings, body);
    if (!result.ok) throw refused(result.problem);
    if (await deps.store.saveSettings(current, result.settings)) {
      await ctx.audit({
        action: 'settings',
        outcome: 'success',
        reason: `changed ${changedFields(body).join(', ')}`,
      });
      return settingsView({ ...current, settings: result.settings });
    }
    const fresh = await deps.store.getTenant(tenant.tenantId);
    if (!fresh) throw notFound('tenant_not_found', 'no such tenant');
    current = fresh;
  }
  throw serviceUnavailable('settings, under concurrent changes,');
}

/** `issuer, totp.digits`: what a settings change named, for the audit trail. */
const changedFields = (body: Record<string, unknown>): string[] =>
  Object.entries(body).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null
      ? Object.keys(value).map((inner) => `${key}.${inner}`)
      : [key],
  );

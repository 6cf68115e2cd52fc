import { applySettingsPatch } from '../domain/settings.ts';
import type { TenantRecord } from '../domain/records.ts';
import { serviceUnavailable, settingsRefused, tenantNotFound } from '../errors.ts';
import type { TenantContext } from './context.ts';

/** GET /v1/settings. */
export const settingsView = (tenant: TenantRecord) => ({ tenantId: tenant.tenantId, ...tenant.settings });

/** PATCH /v1/settings: validate against the contract's rules, then an optimistic write on the revision. */
export async function patchSettings(ctx: TenantContext, patch: Record<string, unknown>) {
  const { deps, tenant } = ctx;
  let current = tenant;
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = applySettingsPatch(current.settings, patch);
    if (!result.ok) throw settingsRefused(result.problem);
    if (await deps.store.saveSettings(current, result.settings)) {
      await ctx.audit({
        action: 'settings',
        outcome: 'success',
        reason: `changed ${changedFields(patch).join(', ')}`,
      });
      return settingsView({ ...current, settings: result.settings });
    }
    const fresh = await deps.store.getTenant(tenant.tenantId);
    if (!fresh) throw tenantNotFound();
    current = fresh;
  }
  throw serviceUnavailable('settings, under concurrent changes,');
}

/** `issuer, totp.digits`: what a settings change named, for the audit trail. */
const changedFields = (patch: Record<string, unknown>): string[] =>
  Object.entries(patch).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null
      ? Object.keys(value).map((inner) => `${key}.${inner}`)
      : [key],
  );

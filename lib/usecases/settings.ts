import { applySettingsPatch } from '../domain/settings.ts';
import type { TenantRecord } from '../domain/records.ts';
import { settingsRefused, tenantNotFound } from '../errors.ts';
import type { TenantContext } from './context.ts';
import { publishEvents, securityEvent, wanted } from './events.ts';
import { again, done, untilApplied } from './optimistic.ts';

/** GET /v1/settings. */
export const settingsView = (tenant: TenantRecord) => ({ tenantId: tenant.tenantId, ...tenant.settings });

/** PATCH /v1/settings: validate against the contract's rules, then an optimistic write on the revision. */
export async function patchSettings(ctx: TenantContext, patch: Record<string, unknown>) {
  const { deps, tenant } = ctx;
  return untilApplied(tenant, async (current) => {
    const result = applySettingsPatch(current.settings, patch);
    if (!result.ok) throw settingsRefused(result.problem);
    const events = await wanted(ctx, [
      securityEvent(ctx, 'tfa.settings.updated', null, { fields: changedFields(patch) }),
    ]);
    if (!(await deps.store.saveSettings(current, result.settings, events))) {
      const fresh = await deps.store.getTenant(tenant.tenantId);
      if (!fresh) throw tenantNotFound();
      return again(fresh);
    }
    await publishEvents(ctx, deps.store.tenantRef(tenant.tenantId), events);
    await ctx.audit({
      action: 'settings',
      outcome: 'success',
      reason: `changed ${changedFields(patch).join(', ')}`,
    });
    return done(settingsView({ ...current, settings: result.settings }));
  });
}

/** `issuer, totp.digits`: what a settings change named, for the audit trail. */
const changedFields = (patch: Record<string, unknown>): string[] =>
  Object.entries(patch).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null
      ? Object.keys(value).map((inner) => `${key}.${inner}`)
      : [key],
  );

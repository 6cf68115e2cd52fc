import { issueRecoveryCodes } from '../crypto/recoveryHashes.ts';
import { isEnrolled, type UserRecord } from '../domain/user.ts';
import { notEnrolled } from '../errors.ts';
import type { TenantContext } from './context.ts';
import { publishEvents, securityEvent, wanted } from './events.ts';
import { again, done, untilApplied } from './optimistic.ts';

/** POST /v1/users/{userId}/recovery-codes: ten new codes; the old ones stop working. */
export async function replaceRecoveryCodes(ctx: TenantContext, userId: string, read: UserRecord | undefined) {
  const { deps, tenant } = ctx;
  const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  return untilApplied(read, async (user) => {
    if (!isEnrolled(user)) throw notEnrolled();
    const { codes, hashes } = issueRecoveryCodes(keys, userId);
    const events = await wanted(ctx, [securityEvent(ctx, 'tfa.recovery_codes.regenerated', userId)]);
    const result = await deps.store.replaceRecoveryCodes(user, hashes, events);
    if (!result.applied) return again(result.current ?? (await deps.store.getUser(tenant.tenantId, userId)));
    await publishEvents(ctx, deps.store.userRef(tenant.tenantId, userId), events);
    await ctx.audit({ action: 'recovery_codes', userId, outcome: 'success' });
    return done({ recoveryCodes: codes });
  });
}

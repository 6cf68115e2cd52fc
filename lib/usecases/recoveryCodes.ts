import { issueRecoveryCodes } from '../crypto/recoveryHashes.ts';
import type { UserRecord } from '../domain/user.ts';
import { notEnrolled, serviceUnavailable } from '../errors.ts';
import type { TenantContext } from './context.ts';

/** POST /v1/users/{userId}/recovery-codes: ten new codes; the old ones stop working. */
export async function replaceRecoveryCodes(ctx: TenantContext, userId: string, read: UserRecord | undefined) {
  const { deps, tenant } = ctx;
  const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  let user = read;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (!user?.active) throw notEnrolled();
    const { codes, hashes } = issueRecoveryCodes(keys, userId);
    const result = await deps.store.replaceRecoveryCodes(user, user.active.id, hashes);
    if (result.applied) {
      await ctx.audit({ action: 'recovery_codes', userId, outcome: 'success' });
      return { recoveryCodes: codes };
    }
    user = result.current ?? (await deps.store.getUser(tenant.tenantId, userId));
  }
  throw serviceUnavailable('the database, under concurrent changes,');
}

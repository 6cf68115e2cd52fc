import type { TenantContext } from './context.ts';

/** DELETE /v1/users/{userId}: every authenticator, the pending enrolment, the recovery codes; idempotent. */
export async function removeUser(ctx: TenantContext, userId: string, input: { reason: string | undefined }) {
  const { reason } = input;
  const old = await ctx.deps.store.removeUser(ctx.tenant.tenantId, userId);
  const removed = old !== undefined && (old.authenticators.length > 0 || old.pending !== undefined);
  await ctx.audit({
    action: 'remove',
    userId,
    outcome: removed ? 'success' : 'not_found',
    ...(reason === undefined ? {} : { reason }),
  });
  return { userId, removed };
}

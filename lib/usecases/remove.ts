import type { UserRecord } from '../domain/user.ts';
import type { TenantContext } from './context.ts';
import { publishEvents, securityEvent, wanted } from './events.ts';
import { countChanges } from './enrolment.ts';
import { again, done, untilApplied } from './optimistic.ts';

/**
 * DELETE /v1/users/{userId}: every authenticator, the pending enrolment, the recovery
 * codes; a registered user stays registered (and, under a required enrolment, is due
 * again) unless `forget`. Idempotent.
 */
export async function removeUser(
  ctx: TenantContext,
  userId: string,
  read: UserRecord | undefined,
  input: { reason: string | undefined; forget: boolean },
) {
  const { deps, tenant } = ctx;
  const { reason, forget } = input;
  const removed = await untilApplied(read, async (user) => {
    const holds =
      user !== undefined &&
      (user.authenticators.length > 0 ||
        user.pending !== undefined ||
        (forget && user.registration !== undefined));
    if (!holds) return done(false);
    const events = await wanted(ctx, [
      securityEvent(ctx, 'tfa.user.removed', userId, { reason: reason ?? null, forget }),
    ]);
    const result = await deps.store.retireUser(user, forget, deps.now(), events);
    if (!result.applied) return again(result.current ?? (await deps.store.getUser(tenant.tenantId, userId)));
    await publishEvents(ctx, deps.store.userRef(tenant.tenantId, userId), events);
    return done(true);
  });
  await ctx.audit({
    action: 'remove',
    userId,
    outcome: removed ? 'success' : 'not_found',
    ...(reason === undefined ? {} : { reason }),
  });
  if (removed) await countChanges(ctx);
  return { userId, removed };
}

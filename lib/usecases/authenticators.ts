import { authenticatorView, findAuthenticator, sameLabel, type UserRecord } from '../domain/user.ts';
import { authenticatorNotFound, labelTaken } from '../errors.ts';
import type { TenantContext } from './context.ts';
import { publishEvents, securityEvent, wanted } from './events.ts';
import { countChanges } from './enrolment.ts';
import { again, done, untilApplied } from './optimistic.ts';

/**
 * DELETE /v1/users/{userId}/authenticators/{authenticatorId}: the user's other
 * authenticators and recovery codes stay. Removing the last one is DELETE
 * /v1/users/{userId} without `forget`: the user stays registered. Idempotent.
 */
export async function removeAuthenticator(
  ctx: TenantContext,
  userId: string,
  read: UserRecord | undefined,
  input: { authenticatorId: string; reason: string | undefined },
) {
  const { deps, tenant } = ctx;
  const { authenticatorId, reason } = input;
  const removed = await untilApplied(read, async (user) => {
    const found = findAuthenticator(user, authenticatorId);
    if (!user || !found) return done(false);
    const rest = user.authenticators.filter((a) => a.id !== authenticatorId);
    const events = await wanted(ctx, [
      securityEvent(ctx, 'tfa.authenticator.removed', userId, {
        authenticatorId,
        label: found.label,
        reason: reason ?? null,
      }),
    ]);
    const result =
      rest.length === 0
        ? await deps.store.retireUser(user, false, deps.now(), events)
        : await deps.store.replaceAuthenticators(user, rest, events);
    if (!result.applied) return again(result.current ?? (await deps.store.getUser(tenant.tenantId, userId)));
    await publishEvents(ctx, deps.store.userRef(tenant.tenantId, userId), events);
    return done(true);
  });
  await ctx.audit({
    action: 'authenticator_remove',
    userId,
    authenticatorId,
    outcome: removed ? 'success' : 'not_found',
    ...(reason === undefined ? {} : { reason }),
  });
  if (removed) await countChanges(ctx);
  return { userId, authenticatorId, removed };
}

/** PATCH /v1/users/{userId}/authenticators/{authenticatorId}: a new label, unique for the user. */
export async function renameAuthenticator(
  ctx: TenantContext,
  userId: string,
  read: UserRecord | undefined,
  input: { authenticatorId: string; label: string },
) {
  const { deps, tenant } = ctx;
  const { authenticatorId, label } = input;
  const renamed = await untilApplied(read, async (user) => {
    const found = findAuthenticator(user, authenticatorId);
    if (!user || !found) throw authenticatorNotFound();
    if (user.authenticators.some((a) => a.id !== authenticatorId && sameLabel(a.label, label)))
      throw labelTaken();
    if (found.label === label) return done(found);
    const next = user.authenticators.map((a) => (a.id === authenticatorId ? { ...a, label } : a));
    const result = await deps.store.replaceAuthenticators(user, next);
    if (result.applied) return done({ ...found, label });
    return again(result.current ?? (await deps.store.getUser(tenant.tenantId, userId)));
  });
  await ctx.audit({ action: 'authenticator_rename', userId, authenticatorId, outcome: 'success' });
  return authenticatorView(renamed);
}

import { randomUUID } from 'node:crypto';
import { issueRecoveryCodes } from '../crypto/recoveryHashes.ts';
import { matchEnrolmentCode } from '../crypto/secrets.ts';
import { parseCode } from '../domain/codes.ts';
import { isDisabled, lockRemaining } from '../domain/lockout.ts';
import {
  afterConfirm,
  type Authenticator,
  findAuthenticator,
  labelsBeside,
  sameLabel,
  type UserRecord,
} from '../domain/user.ts';
import {
  authenticatorNotFound,
  authenticatorsDisabled,
  invalidCode,
  invalidRequest,
  labelTaken,
  noPendingSetup,
  setupExpired,
  tooManyAuthenticators,
} from '../errors.ts';
import type { TenantContext } from './context.ts';
import { enrollingCounts } from '../domain/enrolment.ts';
import { countChanges } from './enrolment.ts';
import { publishEvents, securityEvent, wanted } from './events.ts';
import { countFailure, lockedError } from './failedAttempts.ts';
import { again, done, untilApplied } from './optimistic.ts';

/**
 * POST /v1/users/{userId}/confirm: the first code makes the pending enrolment an
 * active authenticator, as its mode says (docs/api.md, openapi.yaml). Wrong codes spend the same guess
 * budget as verify's, and the activation is admitted by the store only while no timed
 * lock is in force: it never happens while locked, and never lifts a lock. An add or
 * a replace is judged again in the write that activates: the cap, the replaced id
 * and the label against the authenticators as they are then.
 */
export async function confirmSetup(
  ctx: TenantContext,
  userId: string,
  read: UserRecord | undefined,
  rawCode: string,
) {
  const { deps, tenant } = ctx;
  const { lockout, maxAuthenticators } = tenant.settings;
  const pending = read?.pending;
  if (!read || !pending) throw noPendingSetup();
  const nowMs = deps.now();
  if (pending.expiresAt <= nowMs) throw setupExpired();
  const submitted = parseCode(rawCode, pending.digits);
  if (submitted?.kind !== 'totp') throw invalidRequest(`code must be ${pending.digits} digits`);
  const locked = lockRemaining(read, lockout, nowMs);
  if (locked > 0) throw lockedError(locked);
  // The disable binds the user's existing authenticators: only a new one for all is a way out.
  const bindsDisable = pending.mode.kind === 'add' || pending.mode.kind === 'replace';
  if (bindsDisable && isDisabled(read)) throw authenticatorsDisabled();

  const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  const step = matchEnrolmentCode(
    keys,
    { tenantId: tenant.tenantId, userId, window: tenant.settings.totp.window, nowMs },
    pending,
    submitted.code,
  );
  if (step === null) {
    const outcome = await countFailure(ctx, read, { bindsDisable, weight: 1 });
    if (outcome.kind === 'locked') throw lockedError(outcome.retryAfterMs);
    if (outcome.kind === 'disabled') throw authenticatorsDisabled();
    if (outcome.kind === 'gone') throw noPendingSetup();
    await ctx.audit({ action: 'confirm', userId, outcome: 'invalid_code', authenticatorId: pending.id });
    throw invalidCode();
  }

  const { expiresAt: _, mode, ...enrolment } = pending;
  const activated: Authenticator = { ...enrolment, confirmedAt: nowMs };
  const replacesAll = mode.kind === 'first' || mode.kind === 'reconfigure';
  const recovery = replacesAll ? issueRecoveryCodes(keys, userId) : undefined;
  const token = randomUUID();
  const stepStart = step * pending.period;
  const events = await wanted(ctx, [
    securityEvent(ctx, 'tfa.user.enrolled', userId, {
      authenticatorId: pending.id,
      label: pending.label,
      mode: mode.kind,
    }),
  ]);

  await untilApplied<UserRecord | undefined, void>(read, async (user, tries) => {
    // A lost reply whose retry found our own committed write: the codes are ours.
    if (tries > 0 && user?.lastStepToken === token && findAuthenticator(user, pending.id))
      return done(undefined);
    if (!user || user.pending?.id !== pending.id)
      throw noPendingSetup('the setup was replaced or removed meanwhile');
    // The pending enrolment stays when it no longer fits: the caller may free a place.
    if (mode.kind === 'add' && user.authenticators.length >= maxAuthenticators) {
      throw tooManyAuthenticators(maxAuthenticators);
    }
    if (mode.kind === 'replace' && !findAuthenticator(user, mode.authenticatorId))
      throw authenticatorNotFound();
    if (labelsBeside(user, mode).some((label) => sameLabel(label, pending.label))) throw labelTaken();
    const now = deps.now();
    const lockedMeanwhile = lockRemaining(user, lockout, now);
    if (lockedMeanwhile > 0) throw lockedError(lockedMeanwhile);
    if (bindsDisable && isDisabled(user)) throw authenticatorsDisabled();
    const result = await deps.store.activate(
      user,
      afterConfirm(user, activated, mode),
      recovery?.hashes,
      Math.max(stepStart, user.lastStepStart ?? 0),
      token,
      { nowMs: now, lockout, bindsDisable },
      events,
    );
    if (result.applied) return done(undefined);
    return again(result.current ?? (await deps.store.getUser(tenant.tenantId, userId)));
  });

  await publishEvents(ctx, deps.store.userRef(tenant.tenantId, userId), events);
  deps.counters.count('Confirm');
  await ctx.audit({
    action: 'confirm',
    userId,
    outcome: 'success',
    authenticatorId: pending.id,
    ...(mode.kind === 'first' ? {} : { reason: mode.kind }),
  });
  // A first enrolment registers the user and takes it out of the unenrolled.
  if (enrollingCounts(read)) await countChanges(ctx);
  return {
    userId,
    enabled: true,
    confirmedAt: new Date(nowMs).toISOString(),
    authenticatorId: pending.id,
    label: pending.label,
    ...(recovery ? { recoveryCodes: recovery.codes } : {}),
  };
}

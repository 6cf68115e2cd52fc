import { randomUUID } from 'node:crypto';
import { issueRecoveryCodes } from '../crypto/recoveryHashes.ts';
import { matchEnrolmentCode } from '../crypto/secrets.ts';
import { parseCode } from '../domain/codes.ts';
import { lockRemaining } from '../domain/lockout.ts';
import type { ActiveEnrolment, UserRecord } from '../domain/user.ts';
import { invalidCode, invalidRequest, noPendingSetup, setupExpired } from '../errors.ts';
import type { TenantContext } from './context.ts';
import { countFailure, lockedError } from './failedAttempts.ts';

/**
 * POST /v1/users/{userId}/confirm: the first code makes the pending enrolment
 * active. Wrong codes spend the same guess budget as verify's, and the activation
 * is admitted by the store only while no timed lock is in force: it never happens
 * while locked, and never lifts a lock.
 */
export async function confirmSetup(
  ctx: TenantContext,
  userId: string,
  read: UserRecord | undefined,
  rawCode: string,
) {
  const { deps, tenant } = ctx;
  const { lockout } = tenant.settings;
  const pending = read?.pending;
  if (!read || !pending) throw noPendingSetup();
  const nowMs = deps.now();
  if (pending.expiresAt <= nowMs) throw setupExpired();
  const submitted = parseCode(rawCode, pending.digits);
  if (submitted?.kind !== 'totp') throw invalidRequest(`code must be ${pending.digits} digits`);
  const locked = lockRemaining(read, lockout, nowMs);
  if (locked > 0) throw lockedError(locked);

  const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  const step = matchEnrolmentCode(
    keys,
    { tenantId: tenant.tenantId, userId, window: tenant.settings.totp.window, nowMs },
    pending,
    submitted.code,
  );
  if (step === null) {
    const outcome = await countFailure(ctx, read, false);
    if (outcome.kind === 'locked') throw lockedError(outcome.retryAfterMs);
    if (outcome.kind === 'gone') throw noPendingSetup();
    await ctx.audit({ action: 'confirm', userId, outcome: 'invalid_code' });
    throw invalidCode();
  }

  const { expiresAt: _, ...enrolment } = pending;
  const active: ActiveEnrolment = { ...enrolment, confirmedAt: nowMs };
  const { codes, hashes } = issueRecoveryCodes(keys, userId);
  const token = randomUUID();
  const result = await deps.store.activate(read, active, hashes, step, token, { nowMs, lockout });
  if (!result.applied) {
    const current = result.current ?? (await deps.store.getUser(tenant.tenantId, userId));
    // A lost reply whose retry found our own committed write: the codes are ours.
    const ours = current?.active?.id === pending.id && current.lastStepToken === token;
    if (!ours) {
      // The budget was spent while this code was judged: the lock set meanwhile stands.
      const lockedMeanwhile = current ? lockRemaining(current, lockout, deps.now()) : 0;
      if (lockedMeanwhile > 0 && current?.pending?.id === pending.id) throw lockedError(lockedMeanwhile);
      throw noPendingSetup('the setup was replaced or removed meanwhile');
    }
  }
  deps.counters.count('Confirm');
  await ctx.audit({ action: 'confirm', userId, outcome: 'success' });
  return { userId, enabled: true, confirmedAt: new Date(nowMs).toISOString(), recoveryCodes: codes };
}

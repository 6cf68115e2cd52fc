import { randomBytes, randomUUID } from 'node:crypto';
import type { TenantContext } from './context.ts';
import { parseCode } from './domain/codes.ts';
import { isPrintable } from './domain/identifiers.ts';
import { encodeSecret, otpauthUri, SECRET_BYTES } from './domain/totp.ts';
import { lockRemaining } from './domain/lockout.ts';
import { type ActiveEnrolment, emptyUser, type PendingEnrolment, type UserRecord } from './domain/user.ts';
import {
  ApiError,
  conflict,
  invalidRequest,
  notFound,
  policyDisabled,
  serviceUnavailable,
} from './errors.ts';
import { countFailure, lockedError } from './failedAttempts.ts';
import { optionalBoolean, optionalString } from './http/fields.ts';
import { renderQrCodes } from './qr.ts';
import { issueRecoveryCodes } from './recoveryCodes.ts';
import { matchEnrolmentCode, sealSecret } from './secrets.ts';

/** POST /v1/users/{userId}/setup: a pending enrolment; nothing is enforced until it is confirmed. */
export async function startSetup(
  ctx: TenantContext,
  userId: string,
  read: UserRecord | undefined,
  body: Record<string, unknown> | undefined,
) {
  const accountName = optionalString(body, 'accountName') ?? userId;
  // The Key URI Format forbids ":" in the account name: it separates it from the issuer.
  if (accountName.length === 0 || !isPrintable(accountName, 128) || accountName.includes(':')) {
    throw invalidRequest('accountName must be 1 to 128 printable characters without ":"');
  }
  const reconfigure = optionalBoolean(body, 'reconfigure') ?? false;
  const { deps, tenant } = ctx;
  const { settings } = tenant;
  if (settings.policy === 'disabled') throw policyDisabled();

  const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  const secret = randomBytes(SECRET_BYTES);
  const id = randomBytes(8).toString('hex');
  const createdAt = deps.now();
  const pending: PendingEnrolment = {
    id,
    sealedSecret: sealSecret(keys, { tenantId: tenant.tenantId, userId, enrolmentId: id }, secret),
    algorithm: settings.totp.algorithm,
    digits: settings.totp.digits,
    period: settings.totp.period,
    issuer: settings.issuer,
    accountName,
    createdAt,
    expiresAt: createdAt + settings.setupTtlSeconds * 1000,
  };

  let user = read ?? emptyUser(tenant.tenantId, userId);
  for (let attempt = 0; ; attempt++) {
    if (user.active && !reconfigure) {
      throw conflict(
        'already_enrolled',
        'the user has an active authenticator; set reconfigure to replace it',
      );
    }
    // With no active enrolment the item holds only this setup, and may expire with it.
    const ttl = user.active ? null : Math.ceil(pending.expiresAt / 1000) + 60;
    const result = await deps.store.savePending(user, pending, user.active?.id ?? null, ttl);
    if (result.applied) break;
    if (attempt === 2) throw serviceUnavailable('the database, under concurrent changes,');
    user =
      result.current ??
      (await deps.store.getUser(tenant.tenantId, userId)) ??
      emptyUser(tenant.tenantId, userId);
  }

  deps.counters.count('Setup');
  await ctx.audit({
    action: 'setup',
    userId,
    outcome: 'success',
    ...(user.active ? { reason: 'reconfigure' } : {}),
  });

  const base32 = encodeSecret(secret);
  secret.fill(0);
  const uri = otpauthUri({ ...pending, secret: base32 });
  const qr = await renderQrCodes(uri);
  return {
    userId,
    secret: base32,
    otpauthUri: uri,
    qrSvg: qr.svg,
    qrPng: qr.png,
    algorithm: pending.algorithm,
    digits: pending.digits,
    period: pending.period,
    expiresAt: new Date(pending.expiresAt).toISOString(),
  };
}

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
  if (!read || !pending) throw notFound('no_pending_setup', 'the user has no pending setup');
  const nowMs = deps.now();
  if (pending.expiresAt <= nowMs)
    throw new ApiError(410, 'setup_expired', 'the setup has expired; start a new one');
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
    if (outcome.kind === 'gone') throw notFound('no_pending_setup', 'the user has no pending setup');
    await ctx.audit({ action: 'confirm', userId, outcome: 'invalid_code' });
    throw new ApiError(422, 'invalid_code', 'the code is not valid');
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
      throw notFound('no_pending_setup', 'the setup was replaced or removed meanwhile');
    }
  }
  deps.counters.count('Confirm');
  await ctx.audit({ action: 'confirm', userId, outcome: 'success' });
  return { userId, enabled: true, confirmedAt: new Date(nowMs).toISOString(), recoveryCodes: codes };
}

import { randomBytes } from 'node:crypto';
import { sealSecret } from '../crypto/secrets.ts';
import { renderQrCodes } from '../domain/qrCodes.ts';
import { encodeSecret, otpauthUri, SECRET_BYTES } from '../domain/totp.ts';
import { emptyUser, type PendingEnrolment, type UserRecord } from '../domain/user.ts';
import { alreadyEnrolled, policyDisabled } from '../errors.ts';
import type { TenantContext } from './context.ts';
import { again, done, untilApplied } from './optimistic.ts';

export interface SetupRequest {
  /** The label's account part in the authenticator app; the user id by default. */
  accountName: string | undefined;
  /** Set up a new authenticator beside an active one, which works until the new one is confirmed. */
  reconfigure: boolean;
}

/** POST /v1/users/{userId}/setup: a pending enrolment; nothing is enforced until it is confirmed. */
export async function startSetup(
  ctx: TenantContext,
  userId: string,
  read: UserRecord | undefined,
  request: SetupRequest,
) {
  const accountName = request.accountName ?? userId;
  const { reconfigure } = request;
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

  const user = await untilApplied(read ?? emptyUser(tenant.tenantId, userId), async (current) => {
    if (current.active && !reconfigure) throw alreadyEnrolled();
    // With no active enrolment the item holds only this setup, and may expire with it.
    const ttl = current.active ? null : Math.ceil(pending.expiresAt / 1000) + 60;
    const result = await deps.store.savePending(current, pending, current.active?.id ?? null, ttl);
    if (result.applied) return done(current);
    return again(
      result.current ??
        (await deps.store.getUser(tenant.tenantId, userId)) ??
        emptyUser(tenant.tenantId, userId),
    );
  });

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

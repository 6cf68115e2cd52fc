import { randomBytes } from 'node:crypto';
import { sealSecret } from '../crypto/secrets.ts';
import { isDisabled } from '../domain/lockout.ts';
import { renderQrCodes } from '../domain/qrCodes.ts';
import { encodeSecret, otpauthUri, SECRET_BYTES } from '../domain/totp.ts';
import {
  defaultLabel,
  emptyUser,
  type EnrolMode,
  findAuthenticator,
  labelsBeside,
  type PendingEnrolment,
  sameLabel,
  type UserRecord,
} from '../domain/user.ts';
import {
  alreadyEnrolled,
  authenticatorNotFound,
  authenticatorsDisabled,
  labelTaken,
  policyDisabled,
  tooManyAuthenticators,
} from '../errors.ts';
import type { TenantContext } from './context.ts';
import { again, done, untilApplied } from './optimistic.ts';

export interface SetupRequest {
  /** The label's account part in the authenticator app; the user id by default. */
  accountName: string | undefined;
  /** The authenticator's name in lists; `Authenticator N` by default. */
  label: string | undefined;
  /** What the new authenticator is for, when the user has one already (at most one is set). */
  reconfigure: boolean;
  add: boolean;
  replace: string | undefined;
}

/** A new authenticator's id: opaque, and its AAD's name for its sealed secret. */
export const newAuthenticatorId = () => `au_${randomBytes(10).toString('hex')}`;

/**
 * What the pending enrolment will do, judged against the user's authenticators as
 * they are; confirm judges it again in the write that activates.
 */
export function judgeMode(user: UserRecord, request: SetupRequest, maxAuthenticators: number): EnrolMode {
  if (user.authenticators.length === 0) {
    if (request.replace !== undefined) throw authenticatorNotFound();
    return { kind: 'first' };
  }
  if (request.reconfigure) return { kind: 'reconfigure' };
  // Only a new authenticator for all is a way out of the disable (docs/api.md, verify).
  if ((request.add || request.replace !== undefined) && isDisabled(user)) throw authenticatorsDisabled();
  if (request.add) {
    if (user.authenticators.length >= maxAuthenticators) throw tooManyAuthenticators(maxAuthenticators);
    return { kind: 'add' };
  }
  if (request.replace !== undefined) {
    if (!findAuthenticator(user, request.replace)) throw authenticatorNotFound();
    return { kind: 'replace', authenticatorId: request.replace };
  }
  throw alreadyEnrolled();
}

/** The label the new authenticator gets: the one asked for if no other has it, or the next default. */
export function judgeLabel(user: UserRecord, mode: EnrolMode, asked: string | undefined): string {
  const taken = labelsBeside(user, mode);
  if (asked === undefined) return defaultLabel(taken);
  if (taken.some((label) => sameLabel(label, asked))) throw labelTaken();
  return asked;
}

/** POST /v1/users/{userId}/setup: a pending enrolment; nothing is enforced until it is confirmed. */
export async function startSetup(
  ctx: TenantContext,
  userId: string,
  read: UserRecord | undefined,
  request: SetupRequest,
) {
  const accountName = request.accountName ?? userId;
  const { deps, tenant } = ctx;
  const { settings } = tenant;
  if (settings.policy === 'disabled') throw policyDisabled();

  const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  const secret = randomBytes(SECRET_BYTES);
  const id = newAuthenticatorId();
  const createdAt = deps.now();
  const made = {
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

  const pending = await untilApplied(read ?? emptyUser(tenant.tenantId, userId), async (current) => {
    const mode = judgeMode(current, request, settings.maxAuthenticators);
    const judged: PendingEnrolment = { ...made, mode, label: judgeLabel(current, mode, request.label) };
    // With no authenticator the item holds only this setup, and may expire with it.
    const ttl = mode.kind === 'first' ? Math.ceil(judged.expiresAt / 1000) + 60 : null;
    const result = await deps.store.savePending(current, judged, ttl);
    if (result.applied) return done(judged);
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
    authenticatorId: id,
    ...(pending.mode.kind === 'first' ? {} : { reason: pending.mode.kind }),
  });

  const base32 = encodeSecret(secret);
  secret.fill(0);
  const uri = otpauthUri({ ...pending, secret: base32 });
  const qr = await renderQrCodes(uri);
  return {
    userId,
    authenticatorId: id,
    label: pending.label,
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

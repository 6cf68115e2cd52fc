import { open, seal } from './aesGcm.ts';
import type { TenantKeys } from './tenantKeys.ts';
import { matchTimeStep } from '../domain/totp.ts';
import type { Enrolment } from '../domain/user.ts';

// The AAD binds a sealed TOTP secret to its tenant, user and enrolment: a ciphertext
// copied into another user's record, or from an old enrolment, does not open.
const aad = (tenantId: string, userId: string, enrolmentId: string) =>
  ['tfa-totp-secret', tenantId, userId, enrolmentId].join('\0');

export const sealSecret = (
  keys: TenantKeys,
  at: { tenantId: string; userId: string; enrolmentId: string },
  secret: Uint8Array,
): Buffer => seal(keys.secrets, secret, aad(at.tenantId, at.userId, at.enrolmentId));

/** Throws SealError when the sealed secret is not this user's: the caller fails closed. */
export const openSecret = (
  keys: TenantKeys,
  at: { tenantId: string; userId: string; enrolmentId: string },
  sealed: Uint8Array,
): Buffer => open(keys.secrets, sealed, aad(at.tenantId, at.userId, at.enrolmentId));

/**
 * The time step whose code `code` is, for this enrolment, within the tenant's
 * window; null when none. The opened secret is zeroed however this returns.
 */
export function matchEnrolmentCode(
  keys: TenantKeys,
  at: { tenantId: string; userId: string; window: number; nowMs: number },
  enrolment: Enrolment,
  code: string,
): number | null {
  const secret = openSecret(keys, { ...at, enrolmentId: enrolment.id }, enrolment.sealedSecret);
  try {
    return matchTimeStep(secret, code, enrolment, at.nowMs, at.window);
  } finally {
    secret.fill(0);
  }
}

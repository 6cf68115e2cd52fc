import { open, seal } from './crypto/aesGcm.ts';
import type { TenantKeys } from './crypto/tenantKeys.ts';

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

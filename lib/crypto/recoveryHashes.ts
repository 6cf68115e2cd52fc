import { randomBytes } from 'node:crypto';
import { hmac, sameBytes } from './hashes.ts';
import type { TenantKeys } from './tenantKeys.ts';
import { formatRecoveryCode, RECOVERY_CODE_BYTES, RECOVERY_CODE_COUNT } from '../domain/codes.ts';

/**
 * Recovery codes are stored only as HMAC-SHA-256 under the tenant's recovery key,
 * over user id and code (so equal codes of two users hash apart), truncated to
 * 128 bits to keep the user's item small. 80-bit random codes need no slow hash.
 */
export const recoveryHash = (keys: TenantKeys, userId: string, normalisedCode: string): Buffer =>
  hmac(keys.recovery, 'recovery-code', userId, normalisedCode).subarray(0, 16);

export function issueRecoveryCodes(keys: TenantKeys, userId: string) {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () =>
    formatRecoveryCode(randomBytes(RECOVERY_CODE_BYTES)),
  );
  const hashes = codes.map((code) => recoveryHash(keys, userId, code.replaceAll('-', '')));
  return { codes, hashes };
}

/** Compares against every stored hash, with no early exit, in constant time. */
export function findRecoveryHash(stored: Uint8Array[], hash: Uint8Array): Uint8Array | undefined {
  let found: Uint8Array | undefined;
  for (const candidate of stored) {
    if (sameBytes(candidate, hash)) found = candidate;
  }
  return found;
}

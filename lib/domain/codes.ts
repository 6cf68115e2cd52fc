import { base32 } from '@otplib/plugin-base32-scure';

/** What a submitted code is, once normalised; anything else is refused before any check. */
export type SubmittedCode = { kind: 'totp'; code: string } | { kind: 'recovery'; code: string };

const RECOVERY = /^[a-z2-7]{4}-?[a-z2-7]{4}-?[a-z2-7]{4}-?[a-z2-7]{4}$/i;

/**
 * The contract's normalisation: strip ASCII spaces and tabs at either end, nothing
 * else. A TOTP code is exactly `digits` ASCII digits (`\d` in a non-unicode regex
 * is ASCII only, so "١٢٣٤٥٦" is refused); a recovery code is 16 base32 characters,
 * hyphens optional, either case, and is folded to lower case without hyphens.
 * `digits`: the lengths a TOTP code may have (the user's authenticators may differ).
 */
export function parseCode(raw: string, digits: number | readonly number[]): SubmittedCode | null {
  const trimmed = raw.replace(/^[ \t]+|[ \t]+$/g, '');
  const lengths: readonly number[] = typeof digits === 'number' ? [digits] : digits;
  if (lengths.includes(trimmed.length) && /^[0-9]+$/.test(trimmed)) return { kind: 'totp', code: trimmed };
  if (RECOVERY.test(trimmed)) return { kind: 'recovery', code: trimmed.replaceAll('-', '').toLowerCase() };
  return null;
}

export const RECOVERY_CODE_COUNT = 10;
/** 80 bits each: above NIST SP 800-63B's 64-bit floor for saved recovery codes. */
export const RECOVERY_CODE_BYTES = 10;

/** `xxxx-xxxx-xxxx-xxxx` from 10 random bytes (16 base32 characters, no padding). */
export function formatRecoveryCode(random: Uint8Array): string {
  if (random.length !== RECOVERY_CODE_BYTES) throw new RangeError('a recovery code takes 10 random bytes');
  const chars = base32.encode(random).toLowerCase();
  return chars.match(/.{4}/g)?.join('-') ?? chars;
}

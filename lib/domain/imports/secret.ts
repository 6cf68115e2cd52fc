/**
 * An imported secret, of any format: what the other panels wrote is base32 text, checked
 * here the same way for all of them.
 */

/** RFC 4226 §4 requires at least 128 bits and recommends 160; cPanel's are 80. */
const STRONG_SECRET_BYTES = 16;
export const isWeak = (secretBytes: number) => secretBytes < STRONG_SECRET_BYTES;
const MIN_SECRET_BYTES = 10;

/** No authenticator app needs more (RFC 6238's SHA-512 seed is 64 bytes); a longer one is refused. */
export const MAX_SECRET_BYTES = 64;
/** Unpadded base32 ends on a whole byte only after 0, 2, 4, 5 or 7 characters of a group of 8. */
const WHOLE_BYTE_REMAINDERS = new Set([0, 2, 4, 5, 7]);

/**
 * An imported secret as bytes: ASCII whitespace at either end dropped, upper-cased,
 * then only `A-Z2-7`, optionally padded with `=` to a multiple of 8 characters, of a
 * length that decodes to whole bytes (17 characters, say, is no encoder's output and
 * is refused rather than cut), from 80 bits to MAX_SECRET_BYTES. Null when it is not one.
 */
export function importedSecret(raw: unknown): Uint8Array | null {
  if (typeof raw !== 'string' || raw.length > 4 * MAX_SECRET_BYTES) return null;
  const text = raw.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '').toUpperCase();
  const match = /^([A-Z2-7]+)(=*)$/.exec(text);
  const data = match?.[1];
  const padding = match?.[2] ?? '';
  if (data === undefined || !WHOLE_BYTE_REMAINDERS.has(data.length % 8)) return null;
  if (padding.length > 0 && (text.length % 8 !== 0 || padding.length > 6)) return null;
  const bytes = decodeBase32(data);
  return bytes.length >= MIN_SECRET_BYTES && bytes.length <= MAX_SECRET_BYTES ? bytes : null;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * RFC 4648 base32 without padding, of a whole-byte length: the few bits past the
 * last byte (zero from any encoder) are dropped, as authenticator apps drop them.
 */
function decodeBase32(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (const char of text) {
    buffer = ((buffer << 5) | ALPHABET.indexOf(char)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}

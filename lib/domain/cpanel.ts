/**
 * What cPanel & WHM hold of a user's 2FA, read into logins and secrets. cPanel
 * keeps only the secret per login (no timestamps, no used step, no pending state),
 * in one of two shapes:
 *
 * - the raw file `/var/cpanel/authn/twofactor_auth/tfa_userdata.json`:
 *   `{"<login>": {"secret": "<BASE32>"}}`;
 * - WHM API 1 `twofactorauth_get_tfa_config_for_user`: `{"<cpuser>": {"primary_account":
 *   {"secret"}, "email": {"<address>": {"secret"}}, "team": {"<team>@<cpuser>": {"secret"}}}}`,
 *   as its `data` object or as the whole answer holding it.
 *
 * Its codes are always SHA1, 6 digits, 30 s.
 */

import { has, isObject, type Json, own } from './untrusted.ts';

export const CPANEL_TOTP = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
export const MAX_IMPORT_LOGINS = 1000;
/** RFC 4226 §4 requires at least 128 bits and recommends 160; cPanel's are 80. */
const STRONG_SECRET_BYTES = 16;
export const isWeak = (secretBytes: number) => secretBytes < STRONG_SECRET_BYTES;
const MIN_SECRET_BYTES = 10;

/** One login of the source, in source order; `secret` is as cPanel wrote it (not yet checked). */
export interface CpanelLogin {
  login: string;
  secret: unknown;
}

/** A WHM API 1 answer (`{"data": {...}, "metadata": {...}}`) rather than a file whose login is "data". */
function unwrapWhmAnswer(source: Json): Json {
  const data = own(source, 'data');
  const answer =
    isObject(data) &&
    !has(data, 'secret') &&
    Object.keys(source).every((key) => key === 'data' || key === 'metadata');
  return answer ? data : source;
}

const ACCOUNT_PARTS = ['primary_account', 'email', 'team'];

/**
 * Every login of a source of either shape, in source order. Throws a message naming
 * what is wrong when the source is not one of the shapes at all; a login whose
 * secret is malformed is still listed, for the caller to refuse on its own.
 */
export function cpanelLogins(source: unknown): CpanelLogin[] {
  if (!isObject(source)) throw new Error('source must be a JSON object');
  const logins: CpanelLogin[] = [];
  for (const [name, entry] of Object.entries(unwrapWhmAnswer(source))) {
    // An account without 2FA: nothing to import, and nothing wrong.
    if (isObject(entry) && Object.keys(entry).length === 0) continue;
    if (isObject(entry) && ACCOUNT_PARTS.some((part) => has(entry, part)) && !has(entry, 'secret')) {
      // The WHM shape: the account, then its e-mail and team users; any part may be absent.
      const primary = own(entry, 'primary_account');
      if (isObject(primary) && has(primary, 'secret')) logins.push({ login: name, secret: primary.secret });
      for (const part of ['email', 'team'] as const) {
        const users = own(entry, part);
        if (users === undefined || users === null) continue;
        if (!isObject(users)) throw new Error(`source.${name}.${part} must be an object of logins`);
        for (const [login, user] of Object.entries(users)) {
          logins.push({ login, secret: isObject(user) ? own(user, 'secret') : undefined });
        }
      }
    } else {
      logins.push({ login: name, secret: isObject(entry) ? own(entry, 'secret') : undefined });
    }
  }
  return logins;
}

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
export function cpanelSecret(raw: unknown): Uint8Array | null {
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

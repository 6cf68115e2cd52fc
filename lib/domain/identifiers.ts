/** Syntax of the identifiers in the contract (docs/api.md, "Conventions"). */

const USER_ID = /^[A-Za-z0-9._@+-]{1,128}$/;
const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

// `.` and `..` are in the character set but name no user: no router, proxy or log
// reader treats them as plain segments.
export const isUserId = (value: unknown): value is string =>
  typeof value === 'string' && USER_ID.test(value) && value !== '.' && value !== '..';

export const isTenantId = (value: unknown): value is string =>
  typeof value === 'string' && TENANT_ID.test(value);

// Issuer and key names end up in authenticator apps and admin screens: printable
// only (no control, format or unassigned code points, and no line or paragraph
// separator, which apps render as line breaks), counted in code points.
const PRINTABLE = /^[^\p{C}\p{Zl}\p{Zp}]+$/u;

export const isPrintable = (value: string, maxLength: number): boolean =>
  PRINTABLE.test(value) && [...value].length <= maxLength;

/** The issuer is the label prefix in `otpauth://totp/Issuer:account`, so it may not hold `:`. */
export const isIssuer = (value: unknown): value is string =>
  typeof value === 'string' && isPrintable(value, 64) && !value.includes(':');

/**
 * An ISO 8601 timestamp in UTC as the API writes them (`2026-11-22T20:30:00.000Z`,
 * milliseconds optional), naming a real instant: no offset, no February 30.
 */
export function isUtcTimestamp(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z$/.exec(value);
  if (!m) return false;
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || Number(m[1]) < 1970) return false;
  // Date.parse rolls an impossible day over into the next month: compare back.
  return new Date(ms).toISOString().slice(0, 19) === value.slice(0, 19);
}

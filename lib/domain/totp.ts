import { timingSafeEqual } from 'node:crypto';
import { createGuardrails } from '@otplib/core';
import { base32 } from '@otplib/plugin-base32-scure';
import { crypto as nodeCrypto } from '@otplib/plugin-crypto-node';
import { generateSync } from '@otplib/totp';
import type { TotpParams } from './settings.ts';

/** RFC 4226 §4 asks for at least 128 bits and recommends 160: we use 160. */
export const SECRET_BYTES = 20;

export const encodeSecret = (secret: Uint8Array): string => base32.encode(secret).replace(/=+$/, '');

/** The time step (RFC 6238 T) that a Unix time in milliseconds falls in. */
export const timeStep = (nowMs: number, period: number): number => Math.floor(nowMs / 1000 / period);

/**
 * otplib refuses secrets under 128 bits; cPanel's are 80, and an imported user's
 * app holds one. They are verified as they are (and flagged `weakSecret`), since
 * refusing them would lock the user out; setup never makes one (SECRET_BYTES).
 */
const GUARDRAILS = createGuardrails({ MIN_SECRET_BYTES: 10 });

/** The code for one time step. otplib does the arithmetic (RFC 6238 / RFC 4226 truncation). */
export const totpAt = (secret: Uint8Array, step: number, params: TotpParams): string =>
  generateSync({
    secret,
    epoch: step * params.period,
    period: params.period,
    digits: params.digits,
    algorithm: params.algorithm.toLowerCase() as 'sha1' | 'sha256' | 'sha512',
    crypto: nodeCrypto,
    guardrails: GUARDRAILS,
  });

/**
 * The offsets from the current step, within `-reach` to `+reach`, whose codes equal
 * `code`. The steps are taken from one reading of the clock, and every one is computed
 * and compared in constant time, with no early exit, so the time taken does not tell
 * which step matched. `code` must already be `digits` ASCII digits (see parseCode).
 */
function matchingOffsets(secret: Uint8Array, code: string, params: TotpParams, nowMs: number, reach: number) {
  const current = timeStep(nowMs, params.period);
  const given = Buffer.from(code, 'ascii');
  const matched: number[] = [];
  for (let offset = -reach; offset <= reach; offset++) {
    const expected = Buffer.from(totpAt(secret, current + offset, params), 'ascii');
    if (expected.length === given.length && timingSafeEqual(expected, given)) matched.push(offset);
  }
  return { current, matched };
}

/** The time step whose code equals `code`, among `now - window` to `now + window`, or null. */
export function matchTimeStep(
  secret: Uint8Array,
  code: string,
  params: TotpParams,
  nowMs: number,
  window: number,
): number | null {
  const { current, matched } = matchingOffsets(secret, code, params, nowMs, window);
  // Codes of different steps can collide (1 in 10^digits): prefer the latest step,
  // so a legitimate code is never refused as a replay of an older one.
  const latest = matched.at(-1);
  return latest === undefined ? null : current + latest;
}

/** How far from now a wrong code is still looked for, as a clock-skew hint for support. */
export const SKEW_REACH = 10;

/**
 * The offset from the current step of the nearest step outside the window (up to
 * SKEW_REACH away) whose code equals `code`, or null.
 */
export function skewedStep(
  secret: Uint8Array,
  code: string,
  params: TotpParams,
  nowMs: number,
  window: number,
): number | null {
  const outside = matchingOffsets(secret, code, params, nowMs, SKEW_REACH).matched.filter(
    (offset) => Math.abs(offset) > window,
  );
  return outside.reduce<number | null>(
    (nearest, offset) => (nearest === null || Math.abs(offset) < Math.abs(nearest) ? offset : nearest),
    null,
  );
}

/**
 * The Key URI Format (google-authenticator wiki): label `Issuer:account`, each part
 * percent-encoded, and every parameter explicit, defaults included: some apps
 * ignore what is absent, and a tenant may have changed the defaults.
 * encodeURIComponent, not URLSearchParams: apps read `+` as a plus, not a space.
 */
export function otpauthUri(p: { issuer: string; accountName: string; secret: string } & TotpParams): string {
  const label = `${encodeURIComponent(p.issuer)}:${encodeURIComponent(p.accountName)}`;
  const query = [
    ['secret', p.secret],
    ['issuer', p.issuer],
    ['algorithm', p.algorithm],
    ['digits', String(p.digits)],
    ['period', String(p.period)],
  ]
    .map(([key, value]) => `${key}=${encodeURIComponent(value as string)}`)
    .join('&');
  return `otpauth://totp/${label}?${query}`;
}

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA-256 over parts joined by NUL, which none of our identifiers may hold. */
export const hmac = (key: Uint8Array, ...parts: string[]): Buffer =>
  createHmac('sha256', key).update(parts.join('\0'), 'utf8').digest();

export const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Constant-time equality; lengths are not secret here (hash outputs, fixed-size codes). */
export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && timingSafeEqual(a, b);

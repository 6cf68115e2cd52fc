import { hmac, sameBytes } from './hashes.ts';
import { invalidCursor } from '../errors.ts';

/**
 * Opaque page cursors: a position, signed with the tenant's cursor key and bound to
 * the tenant and the listing, so a cursor from another tenant or a forged one is
 * refused rather than followed.
 */
export function encodeCursor(key: Uint8Array, tenantId: string, list: string, position: string): string {
  const payload = Buffer.from(JSON.stringify({ l: list, p: position }), 'utf8').toString('base64url');
  return `${payload}.${signature(key, tenantId, payload).toString('base64url')}`;
}

export function decodeCursor(key: Uint8Array, tenantId: string, list: string, cursor: string): string {
  const [payload = '', mac = '', extra] = cursor.split('.');
  // The MAC is compared as the text we write, not as bytes decoded leniently: a
  // decoder that skips padding, `+` for `-` or a stray `!` would make cursors malleable.
  const expected = Buffer.from(signature(key, tenantId, payload).toString('base64url'), 'ascii');
  if (extra !== undefined || !sameBytes(Buffer.from(mac, 'utf8'), expected)) throw invalidCursor();
  try {
    const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      l?: unknown;
      p?: unknown;
    };
    if (parsed.l === list && typeof parsed.p === 'string') return parsed.p;
  } catch {
    // fall through: a signed but unreadable cursor is as invalid as a forged one
  }
  throw invalidCursor();
}

const signature = (key: Uint8Array, tenantId: string, payload: string) =>
  hmac(key, 'cursor', tenantId, payload).subarray(0, 16);

import { isObject, own } from '../untrusted.ts';
import { InvalidSource, PANEL_TOTP, type SourceLogin } from './sourceLogins.ts';

/**
 * HestiaCP (1.4 and later, where `TWOFA` is in `user.conf` and in `v-list-user <user> json`):
 * `{"<user>": {"TWOFA": "<secret>", ...}}` as `v-list-user` prints it, several users in one
 * object, or a string of such objects one after another (a loop over `v-list-users`).
 * An empty `TWOFA` is a user without 2FA; every other field is ignored (and never kept).
 */
export function hestiaLogins(source: unknown): SourceLogin[] {
  const objects = typeof source === 'string' ? concatenatedObjects(source) : [source];
  const logins: SourceLogin[] = [];
  for (const object of objects) {
    if (!isObject(object)) throw new InvalidSource(expected);
    for (const [user, fields] of Object.entries(object)) {
      if (!isObject(fields))
        throw new InvalidSource(`${expected}; "${clip(user)}" is not an object of fields`);
      const secret = own(fields, 'TWOFA');
      if (secret === undefined || secret === '') logins.push({ userId: user, outcome: 'not_enrolled' });
      else logins.push({ userId: user, secret, parameters: PANEL_TOTP });
    }
  }
  return logins;
}

const expected =
  'source must be what `v-list-user <user> json` prints: {"<user>": {"TWOFA": "<secret>", ...}}, or a string of such objects';

/** A login name in a message, cut short: the message never echoes the source at length. */
const clip = (text: string) => (text.length > 64 ? `${text.slice(0, 64)}…` : text);

/** `{...}{...}` or `{...}\n{...}`: each top-level JSON object of the text, parsed. */
function concatenatedObjects(text: string): unknown[] {
  const objects: unknown[] = [];
  let at = 0;
  while (at < text.length) {
    while (at < text.length && /\s/.test(text[at] as string)) at++;
    if (at >= text.length) break;
    if (text[at] !== '{') throw new InvalidSource(expected);
    const end = endOfObject(text, at);
    try {
      objects.push(JSON.parse(text.slice(at, end)));
    } catch {
      throw new InvalidSource(`${expected} (the object at character ${at} is not JSON)`);
    }
    at = end;
  }
  if (objects.length === 0) throw new InvalidSource(expected);
  return objects;
}

/** Where the object that opens at `start` ends: its closing brace, strings skipped. */
function endOfObject(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{') depth++;
    else if (char === '}' && --depth === 0) return i + 1;
  }
  throw new InvalidSource(`${expected} (an object opened at character ${start} is not closed)`);
}

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

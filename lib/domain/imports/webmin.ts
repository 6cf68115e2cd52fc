import { InvalidSource, linesOf, PANEL_TOTP, type SourceLogin } from './sourceLogins.ts';

/**
 * Webmin, Virtualmin and Usermin (Webmin 1.9 and later): the text of `miniserv.users`
 * (colon-separated, 14 fields: `user:password-hash:...:provider:id:apikey`, the second
 * factor in fields 12 and 13 counting from 1, as acl-lib.pl reads them) or of
 * `twofactor-users` (`user:provider:id[:apikey]`), told apart by their number of fields.
 * Only the provider `totp` is imported (its id is the secret); another is
 * `unsupported`; empty fields are `not_enrolled`. The password hash and every other
 * field are never kept: only the user, the provider and the id leave this function.
 */
export function webminLogins(source: unknown): SourceLogin[] {
  if (typeof source !== 'string') throw new InvalidSource(expected);
  const logins: SourceLogin[] = [];
  for (const [index, line] of linesOf(source).entries()) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    const [user, provider, id] =
      fields.length >= 12
        ? [fields[0], fields[11], fields[12]]
        : fields.length >= 3 && fields.length <= 4
          ? fields
          : [];
    if (user === undefined || user === '') {
      // Never the line itself: a miniserv.users line holds a password hash.
      throw new InvalidSource(`${expected} (line ${index + 1} has ${fields.length} fields)`);
    }
    if (!provider || !id) logins.push({ userId: user, outcome: 'not_enrolled' });
    else if (provider !== 'totp') logins.push({ userId: user, outcome: 'unsupported' });
    else logins.push({ userId: user, secret: id, parameters: PANEL_TOTP });
  }
  if (logins.length === 0) throw new InvalidSource(`${expected} (no user in it)`);
  return logins;
}

const expected =
  'source must be the text of a miniserv.users file (user:hash:...:provider:id) or of a twofactor-users file (user:provider:id)';

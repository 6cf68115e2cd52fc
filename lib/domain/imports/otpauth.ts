import { InvalidSource, linesOf, PANEL_TOTP, type SourceLogin, totpParameters } from './sourceLogins.ts';

/**
 * Lists for systems with no format of their own (an Authelia URI export, Plesk's
 * per-login CLI output, a hand-made list), one login a line:
 * - `otpauth://totp/<label>?secret=...` (Key URI Format): the user is the label's account
 *   name (after the issuer and its colon, if any);
 * - `<userId>,otpauth://totp/...`;
 * - `<userId>,<base32 secret>[,<algorithm>,<digits>,<period>]`.
 * Blank lines and lines starting with `#` are skipped. Parameters outside what settings
 * allow are `invalid_parameters`; `otpauth://hotp/...` is `unsupported`.
 */
export function otpauthLogins(source: unknown): SourceLogin[] {
  if (typeof source !== 'string') throw new InvalidSource(expected);
  const logins: SourceLogin[] = [];
  for (const [index, raw] of linesOf(source).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (/^otpauth:/i.test(line)) {
      logins.push(fromUri(line, undefined, index));
      continue;
    }
    const comma = line.indexOf(',');
    if (comma < 0) throw new InvalidSource(`${expected} (line ${index + 1} is neither)`);
    const userId = line.slice(0, comma).trim();
    const rest = line.slice(comma + 1).trim();
    if (/^otpauth:/i.test(rest)) {
      logins.push(fromUri(rest, userId, index));
      continue;
    }
    const [secret = '', ...parameters] = rest.split(',').map((part) => part.trim());
    if (parameters.length === 0) {
      logins.push({ userId, secret, parameters: PANEL_TOTP });
      continue;
    }
    const [algorithm = '', digits = '', period = ''] = parameters;
    const checked = parameters.length === 3 ? totpParameters(algorithm, digits, period) : null;
    logins.push(
      checked ? { userId, secret, parameters: checked } : { userId, outcome: 'invalid_parameters' },
    );
  }
  if (logins.length === 0) throw new InvalidSource(`${expected} (no login in it)`);
  return logins;
}

const expected =
  'source must be lines of otpauth://totp/ URIs, <userId>,otpauth://totp/... or <userId>,<base32 secret>[,<algorithm>,<digits>,<period>]';

function fromUri(text: string, userId: string | undefined, index: number): SourceLogin {
  let uri: URL;
  try {
    uri = new URL(text);
  } catch {
    throw new InvalidSource(`${expected} (line ${index + 1} is not a URI)`);
  }
  const label = decodeLabel(uri.pathname.replace(/^\/+/, ''));
  const colon = label.indexOf(':');
  const account = (colon >= 0 ? label.slice(colon + 1) : label).trim();
  const labelIssuer = colon >= 0 ? label.slice(0, colon).trim() : undefined;
  const user = userId ?? account;
  if (uri.host.toLowerCase() === 'hotp') return { userId: user, outcome: 'unsupported' };
  if (uri.protocol.toLowerCase() !== 'otpauth:' || uri.host.toLowerCase() !== 'totp') {
    throw new InvalidSource(`${expected} (line ${index + 1} is not otpauth://totp/)`);
  }
  const query = uri.searchParams;
  const parameters = totpParameters(
    query.get('algorithm') ?? PANEL_TOTP.algorithm,
    query.get('digits') ?? String(PANEL_TOTP.digits),
    query.get('period') ?? String(PANEL_TOTP.period),
  );
  if (!parameters) return { userId: user, outcome: 'invalid_parameters' };
  const issuer = query.get('issuer') ?? labelIssuer;
  return {
    userId: user,
    secret: query.get('secret') ?? '',
    parameters,
    ...(issuer ? { issuer } : {}),
    ...(account ? { accountName: account } : {}),
  };
}

/** A label is percent-encoded; one that does not decode is taken as it is. */
function decodeLabel(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

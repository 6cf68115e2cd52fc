import type { HashAlgorithm, TotpParams } from '../settings.ts';

/**
 * What a parser makes of another panel's export: its logins in source order, each with
 * its secret as the source wrote it (checked later, by the import pipeline, as every
 * format's are), or the reason it is skipped or refused. A parser keeps nothing else of
 * a line: no password hash, no other field, no text of the source.
 */
export type SourceLogin =
  | {
      userId: string;
      secret: unknown;
      parameters: TotpParams;
      /** The issuer the source names for this login (an otpauth URI's). */
      issuer?: string;
      /** The account name the source names (CyberPanel's e-mail, a URI's label). */
      accountName?: string;
    }
  | { userId: string; outcome: 'not_enrolled' | 'unsupported' | 'invalid_parameters' };

/** A login the parser skipped or refused (it carries its outcome, no secret). */
export type RefusedLogin = Extract<SourceLogin, { outcome: string }>;
export type ReadLogin = Exclude<SourceLogin, RefusedLogin>;
export const isRefused = (login: SourceLogin): login is RefusedLogin => Object.hasOwn(login, 'outcome');

/** A source that is not its format's shape at all: `400 invalid_source`, naming what was expected. */
export class InvalidSource extends Error {}

/** What every panel but the otpauth lists uses: the only parameters its apps were given. */
export const PANEL_TOTP: TotpParams = { algorithm: 'SHA1', digits: 6, period: 30 };

const ALGORITHMS: readonly HashAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];

/** Parameters as the settings allow them (SHA1/SHA256/SHA512, 6 or 8 digits, 15 to 120 s), or null. */
export function totpParameters(algorithm: string, digits: string, period: string): TotpParams | null {
  const name = algorithm.toUpperCase() as HashAlgorithm;
  if (!ALGORITHMS.includes(name)) return null;
  if (!/^[0-9]{1,3}$/.test(digits) || !/^[0-9]{1,3}$/.test(period)) return null;
  const [d, p] = [Number(digits), Number(period)];
  if ((d !== 6 && d !== 8) || p < 15 || p > 120) return null;
  return { algorithm: name, digits: d, period: p };
}

/** The lines of a text source, its line endings of any system. */
export const linesOf = (text: string): string[] => text.split(/\r\n|\n|\r/);

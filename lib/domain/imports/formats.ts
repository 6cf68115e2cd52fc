import { cpanelLogins } from '../cpanel.ts';
import { cyberpanelLogins } from './cyberpanel.ts';
import { hestiaLogins } from './hestia.ts';
import { otpauthLogins } from './otpauth.ts';
import { InvalidSource, PANEL_TOTP, type SourceLogin } from './sourceLogins.ts';
import { webminLogins } from './webmin.ts';

/**
 * The formats `POST /v1/import/{format}` reads: each one's parser, the label its
 * authenticators get, and the weaknesses every secret of it inherits (HestiaCP sent
 * every key to a third-party web service to draw its QR code; Webmin made its
 * secrets with a non-cryptographic generator).
 */
export const IMPORT_FORMATS = {
  cpanel: { label: 'cPanel', weaknesses: [], parse: cpanelSourceLogins },
  hestia: { label: 'HestiaCP', weaknesses: ['third_party_qr'], parse: hestiaLogins },
  webmin: { label: 'Webmin', weaknesses: ['non_csprng'], parse: webminLogins },
  cyberpanel: { label: 'CyberPanel', weaknesses: [], parse: cyberpanelLogins },
  otpauth: { label: 'Imported', weaknesses: [], parse: otpauthLogins },
} as const satisfies Record<
  string,
  { label: string; weaknesses: readonly string[]; parse: (source: unknown) => SourceLogin[] }
>;

export type ImportFormat = keyof typeof IMPORT_FORMATS;

export const isImportFormat = (name: string): name is ImportFormat => Object.hasOwn(IMPORT_FORMATS, name);

/** cPanel's two shapes (lib/domain/cpanel.ts), as the other formats' logins. */
function cpanelSourceLogins(source: unknown): SourceLogin[] {
  try {
    return cpanelLogins(source).map(({ login, secret }) => ({
      userId: login,
      secret,
      parameters: PANEL_TOTP,
    }));
  } catch (error) {
    throw new InvalidSource(
      `${(error as Error).message}: what cPanel wrote, the WHM API answer or tfa_userdata.json`,
    );
  }
}

import QRCode from 'qrcode';

/** Pixels across: a phone's camera reads a code of this size from a screen at arm's length. */
export const QR_SIZE = 256;

/**
 * The otpauth URI as an SVG document and a PNG data URL; both encode exactly `text`.
 * The SVG carries `width`, `height` and a `viewBox`, so a page that shows it as it is
 * shows it at QR_SIZE, not at one pixel per module.
 */
export async function renderQrCodes(text: string): Promise<{ svg: string; png: string }> {
  const options = { errorCorrectionLevel: 'M' as const, margin: 2, width: QR_SIZE };
  const [svg, png] = await Promise.all([
    QRCode.toString(text, { ...options, type: 'svg' }),
    QRCode.toDataURL(text, options),
  ]);
  return { svg, png };
}

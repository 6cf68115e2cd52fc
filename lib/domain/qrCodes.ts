import QRCode from 'qrcode';

/** The otpauth URI as an SVG document and a PNG data URL; both encode exactly `text`. */
export async function renderQrCodes(text: string): Promise<{ svg: string; png: string }> {
  const options = { errorCorrectionLevel: 'M' as const, margin: 2 };
  const [svg, png] = await Promise.all([
    QRCode.toString(text, { ...options, type: 'svg' }),
    QRCode.toDataURL(text, { ...options, scale: 6 }),
  ]);
  return { svg, png };
}

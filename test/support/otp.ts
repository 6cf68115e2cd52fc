import { createHmac } from 'node:crypto';

/**
 * An independent RFC 4226 / RFC 6238 implementation for the tests, written from the
 * RFCs and not from our code, so that a test computes codes the way an
 * authenticator app would.
 */
export function hotp(secret: Buffer, counter: number, digits = 6, algorithm = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, secret).update(message).digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

export const totp = (
  secret: Buffer,
  unixSeconds: number,
  options: { digits?: number; period?: number; algorithm?: string } = {},
) =>
  hotp(
    secret,
    Math.floor(unixSeconds / (options.period ?? 30)),
    options.digits ?? 6,
    options.algorithm ?? 'sha1',
  );

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Decode(text: string): Buffer {
  const clean = text.replace(/=+$/, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of clean) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The code an app would show at `nowMs` (default now), or `offsetSteps` steps away, for a setup response. */
export function codeFor(
  setup: { secret: string; digits?: number; period?: number; algorithm?: string },
  offsetSteps = 0,
  nowMs = Date.now(),
) {
  const period = setup.period ?? 30;
  return totp(base32Decode(setup.secret), nowMs / 1000 + offsetSteps * period, {
    digits: setup.digits ?? 6,
    period,
    algorithm: (setup.algorithm ?? 'SHA1').toLowerCase(),
  });
}

/**
 * Waits, if needed, until the current time step has at least `marginSeconds` left,
 * so that a test's sequence of codes is judged in the step it was computed for.
 */
export async function freshStep(period = 30, marginSeconds = 4): Promise<void> {
  const left = period - ((Date.now() / 1000) % period);
  if (left < marginSeconds) await new Promise((resolve) => setTimeout(resolve, left * 1000 + 50));
}

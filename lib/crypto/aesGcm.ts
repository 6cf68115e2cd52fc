import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// Layout of a sealed value: version (1 byte) | nonce (12) | ciphertext | tag (16).
// A random 96-bit nonce per seal: far fewer than 2^32 seals per key (NIST SP 800-38D §8.3).
const VERSION = 1;
const NONCE = 12;
const TAG = 16;

/** AES-256-GCM with additional authenticated data that says what the value belongs to. */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: string): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(VERSION), nonce, body, cipher.getAuthTag()]);
}

/** Throws SealError when the value was altered, or belongs to another AAD or key. */
export function open(key: Uint8Array, sealed: Uint8Array, aad: string): Buffer {
  const data = Buffer.from(sealed);
  if (data.length < 1 + NONCE + TAG || data[0] !== VERSION) throw new SealError();
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(1, 1 + NONCE));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(data.subarray(data.length - TAG));
  try {
    return Buffer.concat([decipher.update(data.subarray(1 + NONCE, data.length - TAG)), decipher.final()]);
  } catch {
    throw new SealError();
  }
}

export class SealError extends Error {
  constructor() {
    super('sealed value failed authentication');
    this.name = 'SealError';
  }
}

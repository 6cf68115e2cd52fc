import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { open, seal } from './aesGcm.ts';
import { DATA_KEY_BYTES, type KeyVault } from './keyVault.ts';

/**
 * Local mode's stand-in for KMS: data keys wrapped under a key-encryption key kept
 * in a file of mode 0600. The tenant id is the AAD, as KMS's encryption context.
 */
export class LocalKeyVault implements KeyVault {
  constructor(private readonly kek: Buffer) {}

  /** Reads the key file, creating it (0600, exclusive) on first start. */
  static fromFile(path: string): LocalKeyVault {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, randomBytes(DATA_KEY_BYTES), { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const kek = readFileSync(path);
    if (kek.length !== DATA_KEY_BYTES) throw new Error(`${path} is not a ${DATA_KEY_BYTES}-byte key`);
    return new LocalKeyVault(kek);
  }

  async generateDataKey(tenantId: string) {
    const plaintext = randomBytes(DATA_KEY_BYTES);
    return { plaintext, wrapped: seal(this.kek, plaintext, contextOf(tenantId)) };
  }

  async unwrapDataKey(tenantId: string, wrapped: Uint8Array) {
    return open(this.kek, wrapped, contextOf(tenantId));
  }
}

const contextOf = (tenantId: string) => `tfa-data-key\0tenant=${tenantId}`;

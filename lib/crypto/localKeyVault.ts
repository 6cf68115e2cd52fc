import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { open, seal } from './aesGcm.ts';
import { DATA_KEY_BYTES, type KeyVault } from './keyVault.ts';

/**
 * Local mode's stand-in for KMS: data keys wrapped under a key-encryption key kept
 * in a file of mode 0600. The tenant id is the AAD, as KMS's encryption context.
 */
export class LocalKeyVault implements KeyVault {
  constructor(private readonly kek: Buffer) {}

  /**
   * Reads the key file, creating it (0600, exclusive) on first start. A key file
   * that others may read is refused: whoever reads it opens every sealed secret.
   */
  static fromFile(path: string): LocalKeyVault {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, randomBytes(DATA_KEY_BYTES), { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(
        `${path} is readable by others (mode ${mode.toString(8).padStart(4, '0')}): chmod 600 it, or remove it to start afresh`,
      );
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

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalKeyVault } from '../../lib/crypto/localKeyVault.ts';

describe('local key vault', () => {
  it('creates its key file once, mode 0600, and reuses it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tfa-kek-')), 'sub', 'kek.key');
    const vault = LocalKeyVault.fromFile(path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const before = readFileSync(path);
    const { plaintext, wrapped } = await vault.generateDataKey('acme');
    const again = LocalKeyVault.fromFile(path);
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(await again.unwrapDataKey('acme', wrapped), plaintext);
  });
});

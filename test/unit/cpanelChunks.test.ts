import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { cpanelChunks, MAX_CHUNK_BYTES } from '../../client/cpanelChunks.ts';
import { cpanelLogins } from '../../lib/domain/cpanel.ts';
import { encodeSecret } from '../../lib/domain/totp.ts';

const loginsOf = (chunks: object[]) => chunks.flatMap((chunk) => cpanelLogins(chunk).map((l) => l.login));

describe('a cPanel export split into import calls (client/cpanelChunks.ts)', () => {
  it('keeps every login once, in order, in calls of at most 1,000', () => {
    const source = Object.fromEntries(
      Array.from({ length: 2500 }, (_, i) => [`u${i}`, { secret: 'A'.repeat(16) }]),
    );
    const chunks = cpanelChunks(source);
    assert.deepEqual(
      chunks.map((c) => Object.keys(c).length),
      [1000, 1000, 500],
    );
    assert.deepEqual(loginsOf(chunks), Object.keys(source));
  });

  it('splits one WHM account across calls, each chunk a WHM source of its own', () => {
    const email = Object.fromEntries(
      Array.from({ length: 1200 }, (_, i) => [`m${i}@a.example`, { secret: 'B'.repeat(16) }]),
    );
    const whm = {
      data: {
        acct: {
          primary_account: { secret: 'C'.repeat(16) },
          email,
          team: { 'ops@acct': { secret: 'D'.repeat(16) } },
        },
      },
      metadata: { result: 1 },
    };
    const chunks = cpanelChunks(whm);
    assert.equal(chunks.length, 2);
    assert.deepEqual(
      loginsOf(chunks),
      cpanelLogins(whm).map((l) => l.login),
    );
    assert.ok(chunks.every((c) => cpanelLogins(c).length <= 1000));
  });

  it('keeps each call under the 1 MiB body limit', () => {
    const big = 'E'.repeat(2000);
    const source = Object.fromEntries(Array.from({ length: 900 }, (_, i) => [`u${i}`, { secret: big }]));
    const chunks = cpanelChunks(source);
    assert.ok(chunks.length > 1);
    for (const chunk of chunks) assert.ok(JSON.stringify({ source: chunk }).length < MAX_CHUNK_BYTES + 100);
    assert.deepEqual(loginsOf(chunks), Object.keys(source));
  });

  it('refuses what is not a JSON object', () => {
    assert.throws(() => cpanelChunks([]), /JSON object/);
  });
});

describe('cPanel secrets (lib/domain/cpanel.ts)', () => {
  it('reads both shapes, skipping an account without 2FA', async () => {
    const { importedSecret: cpanelSecret } = await import('../../lib/domain/imports/secret.ts');
    assert.deepEqual(
      cpanelLogins({ a: { secret: 'x' }, b: {}, c: { email: { 'e@c': { secret: 'y' } } } }).map(
        (l) => l.login,
      ),
      ['a', 'e@c'],
    );
    assert.equal(cpanelSecret(' jbswy3dpehpk3pxp\t')?.length, 10);
    assert.equal(cpanelSecret('JBSWY3DPEHPK3PXPA'), null, '17 characters: no whole number of bytes');
    assert.equal(cpanelSecret('JBSWY3DPEHPK3PX'), null, 'under 80 bits');
    assert.equal(cpanelSecret('JBSWY3DPEHPK3PXP===='), null, 'padding only up to a multiple of 8');
    const thirteen = randomBytes(13);
    assert.deepEqual(cpanelSecret(`${encodeSecret(thirteen)}===`), new Uint8Array(thirteen), 'padded');
    assert.equal(cpanelSecret(encodeSecret(randomBytes(64)))?.length, 64);
    assert.equal(cpanelSecret(encodeSecret(randomBytes(65))), null, 'over 64 bytes');
    assert.equal(cpanelSecret('A'.repeat(400 * 1024)), null, 'any size');
    assert.equal(cpanelSecret('JBSWY3DPEHPK3PX1'), null);
    assert.equal(cpanelSecret(' JBSW Y3DP EHPK 3PXP'), null, 'no inner space');
    for (const bytes of [10, 16, 20, 32]) {
      const secret = randomBytes(bytes);
      assert.deepEqual(
        cpanelSecret(encodeSecret(secret)),
        new Uint8Array(secret),
        `${bytes} bytes round trip`,
      );
    }
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PROJECT_ROOT } from '../../lib/local/service.ts';
import { base32Decode, freshStep, totp } from '../support/otp.ts';
import { startTestService } from '../support/service.ts';
import { rawStore } from '../support/store.ts';
import { assertError } from '../support/users.ts';

/**
 * Imports from HestiaCP, Webmin/Virtualmin, CyberPanel and otpauth lists over HTTP, from
 * fixtures written as each panel writes them (test/fixtures/imports). After each import a
 * code computed by this file's own TOTP (test/support/otp.ts, not the service's)
 * verifies; the weaknesses each format inherits are named; a miniserv.users full of
 * password hashes leaves none of them in an answer, a log line, the audit trail or the store.
 */

const service = await startTestService();
const { client, operatorKey, logs } = service;
const raw = rawStore(service.storeEndpoint);
const fixture = (name: string) => readFileSync(join(PROJECT_ROOT, 'test/fixtures/imports', name), 'utf8');

async function tenant(id: string) {
  const admin = await client.tenant(operatorKey, id);
  const importing = (format: string, body: unknown) =>
    client.call('POST', `/v1/import/${format}`, { key: admin, body });
  const verify = (userId: string, code: string) =>
    client.call('POST', `/v1/users/${encodeURIComponent(userId)}/verify`, { key: admin, body: { code } });
  const status = async (userId: string) =>
    (await client.call('GET', `/v1/users/${encodeURIComponent(userId)}`, { key: admin })).body;
  return { admin, importing, verify, status };
}

/** The code an app shows now for a secret, by this file's TOTP. */
const codeOf = (secret: string, algorithm = 'sha1', digits = 6, period = 30) =>
  totp(base32Decode(secret), Date.now() / 1000, { algorithm, digits, period });

const outcomes = (body: { results: { userId: string; outcome: string }[] }) =>
  body.results.map((r) => [r.userId, r.outcome]);

describe('import from other panels', () => {
  it('HestiaCP: v-list-user json and a loop of them; TWOFA verifies; every secret third_party_qr', async () => {
    const { importing, verify, status } = await tenant('from-hestia');
    const one = await importing('hestia', { source: JSON.parse(fixture('hestia-v-list-user.json')) });
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.body.results, [
      { userId: 'alice', outcome: 'imported', weakSecret: true, weakReasons: ['third_party_qr'] },
    ]);
    const loop = await importing('hestia', { source: fixture('hestia-loop.txt') });
    assert.deepEqual(outcomes(loop.body), [
      ['bob', 'imported'],
      ['carol', 'not_enrolled'],
    ]);
    assert.deepEqual(loop.body.counts, { imported: 1, unchanged: 0, conflict: 0, invalid: 0, skipped: 1 });
    assert.equal(loop.body.format, 'hestia');
    await freshStep();
    assert.equal((await verify('alice', codeOf('KRUGS4ZANFZSAYJAORSXG5BAONSWG4TF'))).body.valid, true);
    assert.equal((await verify('bob', codeOf('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'))).body.valid, true);
    const alice = await status('alice');
    assert.deepEqual(
      [alice.weakSecret, alice.authenticators[0].importedFrom, alice.authenticators[0].label],
      [true, 'hestia', 'HestiaCP'],
    );
    assert.deepEqual(alice.authenticators[0].weakReasons, ['third_party_qr']);
    assert.equal(alice.recoveryCodesRemaining, 0);
  });

  it('Webmin: miniserv.users and twofactor-users; totp imported, other providers unsupported, non_csprng', async () => {
    const { importing, verify, status } = await tenant('from-webmin');
    const users = await importing('webmin', { source: fixture('webmin-miniserv.users') });
    assert.equal(users.status, 200, users.text);
    assert.deepEqual(users.body.results, [
      { userId: 'root', outcome: 'imported', weakSecret: true, weakReasons: ['non_csprng'] },
      { userId: 'webadmin', outcome: 'not_enrolled' },
      { userId: 'dave', outcome: 'unsupported' },
    ]);
    assert.deepEqual(users.body.counts, { imported: 1, unchanged: 0, conflict: 0, invalid: 0, skipped: 2 });
    const factors = await importing('webmin', { source: fixture('webmin-twofactor-users') });
    assert.deepEqual(outcomes(factors.body), [
      ['erin', 'imported'],
      ['frank', 'unsupported'],
      ['grace', 'not_enrolled'],
    ]);
    await freshStep();
    assert.equal((await verify('root', codeOf('MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U'))).body.valid, true);
    assert.equal(
      (await verify('erin', codeOf('ONSWG4TFORSXG5BAMJ4XIZLTEBTG64TUPEQGE6LUMVZQ'))).body.valid,
      true,
    );
    assert.deepEqual((await status('root')).authenticators[0].weakReasons, ['non_csprng']);
    // Run again: nothing changes.
    const again = await importing('webmin', { source: fixture('webmin-miniserv.users') });
    assert.deepEqual(outcomes(again.body)[0], ['root', 'unchanged']);
  });

  it('CyberPanel: a SELECT * as mysql -B prints it; the e-mail is the account; a short secret is invalid', async () => {
    const { importing, verify } = await tenant('from-cyberpanel');
    const reply = await importing('cyberpanel', { source: fixture('cyberpanel-select-all.tsv') });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.body.results, [
      { userId: 'admin', outcome: 'imported', weakSecret: false, weakReasons: [] },
      { userId: 'reseller1', outcome: 'not_enrolled' },
      { userId: 'noemail', outcome: 'invalid_secret' },
    ]);
    await freshStep();
    const code = codeOf('NBSWY3DPO5XXE3DEEBQW42LNMFWCA3TPOQQGCZLTMVZQ');
    assert.equal((await verify('admin', code)).body.valid, true);
    // CyberPanel accepted a code twice within its window; here the second is a replay.
    assert.deepEqual((await verify('admin', code)).body, { valid: false, reason: 'replayed' });
  });

  it('otpauth lists: URIs with their own parameters and issuer, user lists, unsupported hotp, invalid parameters', async () => {
    const { importing, verify, status } = await tenant('from-otpauth');
    const reply = await importing('otpauth', {
      source: fixture('otpauth-list.txt'),
      issuer: 'Moved Hosting',
    });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(outcomes(reply.body), [
      ['harry', 'imported'],
      ['ivy@example.net', 'imported'],
      ['jack', 'imported'],
      ['kim', 'imported'],
      ['lee', 'imported'],
      ['mia', 'invalid_parameters'],
      ['ned', 'invalid_parameters'],
      ['olga', 'unsupported'],
    ]);
    assert.deepEqual(reply.body.counts, { imported: 5, unchanged: 0, conflict: 0, invalid: 2, skipped: 1 });
    await freshStep(60, 6);
    assert.equal((await verify('harry', codeOf('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'))).body.valid, true);
    assert.equal(
      (await verify('ivy@example.net', codeOf('KVKFKRCPNZQUYMLXOVYDSQKJKZDTSRLD', 'sha256', 8, 60))).body
        .valid,
      true,
    );
    assert.equal(
      (await verify('lee', codeOf('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBV', 'sha512', 8))).body.valid,
      true,
    );
    const ivy = (await status('ivy@example.net')).authenticators[0];
    assert.deepEqual([ivy.algorithm, ivy.digits, ivy.period, ivy.label], ['SHA256', 8, 60, 'Imported']);
  });

  it('a miniserv.users full of password hashes leaves none in an answer, a log line, the audit trail or the store', async () => {
    const { admin, importing } = await tenant('hash-leak');
    const hashes = [
      '$6$leakSalt01$LeakLeakLeakLeakLeakLeakLeakLeakLeakLeakLeakLeakLeakLeakLeakLeakLeakLeakLeakLeakLeakLeak01',
      '$2y$10$bcryptLeakbcryptLeakbcryptLeakbcryptLeakbcryptLeak02',
      '$1$md5Leak3$md5Leakmd5Leakmd5Le03',
    ];
    const source = [
      `leak1:${hashes[0]}:0::::1710754931:::::totp:MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U:`,
      `leak2:${hashes[1]}:0::::1710754931:::::authy:998877:apikey0001`,
      `leak3:${hashes[2]}:0::::1710754931:::::::`,
      `broken:${hashes[0]}:x:y:z:w`,
    ].join('\n');
    const before = logs().length;
    const refused = await importing('webmin', { source });
    assertError(refused, 400, 'invalid_source', /line 4 has 6 fields/);
    const accepted = await importing('webmin', { source: source.split('\n').slice(0, 3).join('\n') });
    assert.equal(accepted.status, 200, accepted.text);
    const dry = await importing('webmin', { source, dryRun: true });
    const audit = await client.call('GET', '/v1/audit?limit=100', { key: admin });
    const written = [
      refused.text,
      accepted.text,
      dry.text,
      audit.text,
      logs().slice(before),
      await raw.snapshot(),
    ];
    for (const hash of hashes) {
      for (const part of [hash, hash.slice(3, 20), hash.slice(-20)]) {
        for (const text of written)
          assert.ok(!text.includes(part), `a password hash reached ${text.slice(0, 80)}`);
      }
    }
    assert.ok(!written.join('').includes('apikey0001'), 'nor another field');
  });

  it('any source in any format: 200, or a 4xx naming the problem, never a 500; a refused import writes nothing', async () => {
    const { importing } = await tenant('fuzzed-imports');
    const token = fc.constantFrom(
      'JBSWY3DPEHPK3PXP',
      'otpauth://totp/a?secret=JBSWY3DPEHPK3PXP',
      'userName\ttwoFA\tsecretKey',
      'u:totp:JBSWY3DPEHPK3PXP',
      '{"a":{"TWOFA":"JBSWY3DPEHPK3PXP"}}',
      ':',
      '\t',
      ',',
      '{',
      '"',
    );
    const text = fc
      .array(fc.oneof(fc.string({ maxLength: 30 }), token), { maxLength: 12 })
      .map((a) => a.join(''));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('cpanel', 'hestia', 'webmin', 'cyberpanel', 'otpauth'),
        fc.oneof(fc.jsonValue({ maxDepth: 3 }), text),
        async (format, source) => {
          const before = await raw.snapshot();
          const reply = await importing(format, { source });
          assert.ok(reply.status === 200 || (reply.status >= 400 && reply.status < 500), reply.text);
          if (reply.status !== 200) {
            assert.match(reply.body.error.message, /\w/);
            assert.equal(await raw.snapshot(), before, 'a refused import wrote something');
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a source of another shape is 400 invalid_source naming what was expected; an unknown format is 404', async () => {
    const { importing } = await tenant('bad-sources');
    for (const [format, source, expected] of [
      ['hestia', [1, 2], /v-list-user/],
      ['webmin', { root: 'x' }, /miniserv\.users/],
      ['cyberpanel', 'id\tname\n1\tx', /loginSystem_administrator/],
      ['otpauth', 'not a list', /otpauth:\/\/totp/],
      ['cpanel', 'text', /JSON object/],
    ] as const) {
      assertError(await importing(format, { source }), 400, 'invalid_source', expected);
    }
    assertError(await importing('plesk', { source: '' }), 404, 'not_found');
    assertError(await importing('hestia', {}), 400, 'invalid_request', /source is required/);
  });
});

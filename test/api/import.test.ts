import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { encodeSecret } from '../../lib/domain/totp.ts';
import { codeFor, freshStep } from '../support/otp.ts';
import { startTestService } from '../support/service.ts';
import { rawStore } from '../support/store.ts';
import { assertError, enrol, assertAccepted } from '../support/users.ts';

// cPanel & WHM enrolments moved here: the same secret keeps giving the codes the
// user's app shows. Fixtures are made here with random secrets, in both of cPanel's
// shapes: the raw tfa_userdata.json and WHM API 1's twofactorauth_get_tfa_config_for_user.

const service = await startTestService();
const { client, operatorKey, logs } = service;
const raw = rawStore(service.storeEndpoint);
let admin: string;
let users: string;
let support: string;
const secretsSent = new Set<string>();

/** cPanel's own kind of secret: 16 base32 characters, 80 bits. */
function cpanelSecret(bytes = 10) {
  const secret = encodeSecret(randomBytes(bytes));
  secretsSent.add(secret);
  return secret;
}
const cpanelCode = (secret: string, offset = 0) =>
  codeFor({ secret, algorithm: 'SHA1', digits: 6, period: 30 }, offset);

const importing = (body: unknown, key = admin) => client.call('POST', '/v1/import/cpanel', { key, body });

before(async () => {
  admin = await client.tenant(operatorKey, 'cpanel-host', 'Acme Hosting');
  users = await client.key(admin, ['users']);
  support = await client.key(admin, ['support']);
});

describe('import from cPanel', () => {
  it('the raw file: the code from the cPanel secret verifies after the import', async () => {
    const bob = cpanelSecret();
    const root = cpanelSecret();
    const reply = await importing({
      source: { bob: { secret: bob }, root: { secret: ` ${root.toLowerCase()}\n` } },
    });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.body, {
      dryRun: false,
      format: 'cpanel',
      counts: { imported: 2, unchanged: 0, conflict: 0, invalid: 0, skipped: 0 },
      results: [
        { userId: 'bob', outcome: 'imported', weakSecret: true, weakReasons: ['short'] },
        { userId: 'root', outcome: 'imported', weakSecret: true, weakReasons: ['short'] },
      ],
    });
    await freshStep();
    const verify = (userId: string, code: string) =>
      client.call('POST', `/v1/users/${userId}/verify`, { key: users, body: { code } });
    assertAccepted((await verify('bob', cpanelCode(bob))).body);
    assertAccepted((await verify('root', cpanelCode(root))).body);
    assert.deepEqual((await verify('bob', cpanelCode(bob))).body, { valid: false, reason: 'replayed' });

    const status = await client.call('GET', '/v1/users/bob', { key: support });
    assert.equal(status.body.enabled, true);
    assert.equal(status.body.source, 'import');
    assert.equal(status.body.weakSecret, true);
    assert.equal(status.body.recoveryCodesRemaining, 0);
  });

  it('the WHM API answer, whole or its data: account, e-mail and team logins in source order', async () => {
    const account = cpanelSecret();
    const mail = cpanelSecret(20);
    const team = cpanelSecret();
    const data = {
      carol: {
        primary_account: { secret: account },
        email: { 'carol@example.com': { secret: mail } },
        team: { 'ops@carol': { secret: team } },
      },
      nobody2fa: {},
    };
    const whole = { data, metadata: { command: 'twofactorauth_get_tfa_config_for_user', result: 1 } };
    const dry = await importing({ source: whole, dryRun: true });
    assert.deepEqual(
      dry.body.results.map((r: any) => r.userId),
      ['carol', 'carol@example.com', 'ops@carol'],
    );
    const reply = await importing({ source: data, issuer: 'Carol Reseller' });
    assert.deepEqual(reply.body.results, [
      { userId: 'carol', outcome: 'imported', weakSecret: true, weakReasons: ['short'] },
      { userId: 'carol@example.com', outcome: 'imported', weakSecret: false, weakReasons: [] },
      { userId: 'ops@carol', outcome: 'imported', weakSecret: true, weakReasons: ['short'] },
    ]);
    await freshStep();
    const verify = await client.call('POST', '/v1/users/carol%40example.com/verify', {
      key: users,
      body: { code: cpanelCode(mail) },
    });
    assertAccepted(verify.body);
    // The issuer given is stored with the enrolment: a reconfigure later shows the tenant's own.
    const item = await raw.user('cpanel-host', 'ops@carol');
    const imported = Object.values(item?.auths?.M ?? {})[0]?.M;
    assert.equal(imported?.issuer?.S, 'Carol Reseller');
    assert.equal(imported?.algorithm?.S, 'SHA1');
    assert.equal(imported?.label?.S, 'cPanel', "labelled with the panel's name");
    assert.equal(imported?.importedFrom?.S, 'cpanel');
  });

  it('a second run changes nothing; another secret is a conflict unless overwrite', async () => {
    const first = cpanelSecret();
    const source = { dan: { secret: first } };
    assert.equal((await importing({ source })).body.counts.imported, 1);
    const before = await raw.snapshot();
    const again = await importing({ source });
    assert.deepEqual(again.body.results, [
      { userId: 'dan', outcome: 'unchanged', weakSecret: true, weakReasons: ['short'] },
    ]);
    assert.equal(await raw.snapshot(), before, 'the second run wrote nothing');

    const second = cpanelSecret();
    const conflict = await importing({ source: { dan: { secret: second } } });
    assert.deepEqual(conflict.body.results, [{ userId: 'dan', outcome: 'conflict' }]);
    assert.equal(conflict.body.counts.conflict, 1);
    const overwritten = await importing({ source: { dan: { secret: second } }, overwrite: true });
    assert.deepEqual(overwritten.body.results, [
      { userId: 'dan', outcome: 'imported', weakSecret: true, weakReasons: ['short'] },
    ]);
    await freshStep();
    const verify = (code: string) =>
      client.call('POST', '/v1/users/dan/verify', { key: users, body: { code } });
    assert.deepEqual((await verify(cpanelCode(first))).body, { valid: false, reason: 'invalid_code' });
    assertAccepted((await verify(cpanelCode(second))).body);
  });

  it('an enrolment made here is a conflict too, and with overwrite is replaced, lifting its counts', async () => {
    const { setup } = await enrol(client, users, 'erin');
    for (let i = 0; i < 2; i++) {
      await client.call('POST', '/v1/users/erin/verify', { key: users, body: { code: '000000' } });
    }
    const secret = cpanelSecret();
    assert.deepEqual((await importing({ source: { erin: { secret } } })).body.results, [
      { userId: 'erin', outcome: 'conflict' },
    ]);
    await importing({ source: { erin: { secret } }, overwrite: true });
    const status = await client.call('GET', '/v1/users/erin', { key: support });
    assert.equal(status.body.failedAttempts, 0);
    assert.equal(
      status.body.recoveryCodesRemaining,
      0,
      'the old recovery codes are gone with the old authenticator',
    );
    assert.equal(status.body.source, 'import');
    const old = await client.call('POST', '/v1/users/erin/verify', {
      key: users,
      body: { code: codeFor(setup, 1) },
    });
    assert.equal(old.body.valid, false);
  });

  it('a pending setup is left as it is', async () => {
    const pending = await client.call('POST', '/v1/users/fay/setup', { key: users });
    const secret = cpanelSecret();
    await importing({ source: { fay: { secret } } });
    const status = await client.call('GET', '/v1/users/fay', { key: support });
    assert.equal(status.body.enabled, true);
    assert.equal(status.body.pending, true);
    await freshStep();
    const confirm = await client.call('POST', '/v1/users/fay/confirm', {
      key: users,
      body: { code: codeFor(pending.body) },
    });
    assert.equal(confirm.status, 200, 'the pending setup still confirms, as a reconfigure');
  });

  it('an invalid secret and an invalid login are refused one by one; the rest is imported', async () => {
    const good = cpanelSecret();
    const reply = await importing({
      source: {
        gus: { secret: good },
        'bad user': { secret: cpanelSecret() },
        padded: { secret: `${cpanelSecret()}====` },
        short: { secret: 'JBSWY3DPEHPK3PX' },
        digits: { secret: 'JBSWY3DP0HPK3PXP' },
        number: { secret: 12345 },
        empty: {},
      },
    });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body.results, [
      { userId: 'gus', outcome: 'imported', weakSecret: true, weakReasons: ['short'] },
      { userId: 'bad user', outcome: 'invalid_user_id' },
      { userId: 'padded', outcome: 'invalid_secret' },
      { userId: 'short', outcome: 'invalid_secret' },
      { userId: 'digits', outcome: 'invalid_secret' },
      { userId: 'number', outcome: 'invalid_secret' },
    ]);
    assert.deepEqual(reply.body.counts, { imported: 1, unchanged: 0, conflict: 0, invalid: 5, skipped: 0 });
    assert.equal((await client.call('GET', '/v1/users/short', { key: support })).body.enabled, false);
  });

  it('a dry run answers what would happen and changes nothing, audit included', async () => {
    await importing({ source: { hal: { secret: cpanelSecret() } } });
    const before = await raw.snapshot();
    const reply = await importing({
      source: { hal: { secret: cpanelSecret() }, ida: { secret: cpanelSecret() } },
      dryRun: true,
    });
    assert.deepEqual(reply.body, {
      dryRun: true,
      format: 'cpanel',
      counts: { imported: 1, unchanged: 0, conflict: 1, invalid: 0, skipped: 0 },
      results: [
        { userId: 'hal', outcome: 'conflict' },
        { userId: 'ida', outcome: 'imported', weakSecret: true, weakReasons: ['short'] },
      ],
    });
    assert.equal(await raw.snapshot(), before, 'the table is exactly as it was');
  });

  it('each imported login is one import audit event, by the admin key', async () => {
    await importing({ source: { jan: { secret: cpanelSecret() }, 'bad user': { secret: 'x' } } });
    const events = await client.call('GET', '/v1/audit?userId=jan', { key: support });
    const imports = events.body.events.filter((e: any) => e.action === 'import');
    assert.equal(imports.length, 1);
    assert.equal(imports[0].outcome, 'success');
    assert.equal(imports[0].actor.name, 'bootstrap');
  });

  it('1,000 logins in one call; 1,001 are refused whole', async () => {
    const source = Object.fromEntries(
      Array.from({ length: 1000 }, (_, i) => [`bulk${i}`, { secret: cpanelSecret() }]),
    );
    // On a busy machine the call may run out of time (503, Retry-After): the same import
    // sent again finishes it, as a caller does.
    let reply = await importing({ source });
    for (let retry = 0; reply.status === 503 && retry < 5; retry++) {
      await new Promise((resolve) => setTimeout(resolve, Number(reply.headers.get('retry-after')) * 1000));
      reply = await importing({ source });
    }
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body.counts.imported + reply.body.counts.unchanged, 1000);
    assert.equal(reply.body.counts.conflict, 0);
    const list = await client.call('GET', '/v1/users?limit=100', { key: support });
    assert.ok(list.body.users.some((u: any) => u.userId.startsWith('bulk')));

    const tooMany = { ...source, bulk1000: { secret: cpanelSecret() } };
    assertError(await importing({ source: tooMany }), 400, 'invalid_request', /1001 logins; at most 1000/);
  });

  it('takes up to 1 MiB here, while every other route keeps 16 KiB', async () => {
    const padding = 'x'.repeat(600 * 1024);
    const big = await importing({ source: { kim: { secret: cpanelSecret(), note: padding } } });
    assert.equal(big.status, 200, big.text);
    const tooBig = await importing({ source: {}, padding: 'x'.repeat(1024 * 1024) });
    assertError(tooBig, 400, 'invalid_request', /larger than 1 MiB/);
    const elsewhere = await client.call('PATCH', '/v1/settings', {
      key: admin,
      body: { issuer: 'Acme', padding: 'x'.repeat(17 * 1024) },
    });
    assertError(elsewhere, 400, 'invalid_request', /larger than 16 KiB/);
  });

  it('refuses a body that is not an import, naming the field', async () => {
    assertError(await importing({}), 400, 'invalid_request', /source/);
    assertError(await importing({ source: [] }), 400, 'invalid_source', /source/);
    assertError(await importing({ source: { x: { email: 'no' } } }), 400, 'invalid_source', /email/);
    assertError(await importing({ source: {}, dryRun: 'yes' }), 400, 'invalid_request', /dryRun/);
    assertError(await importing({ source: {}, issuer: 'a:b' }), 400, 'invalid_issuer');
  });

  it('needs an admin key, and is allowed whatever the policy', async () => {
    assertError(await importing({ source: {} }, support), 403, 'forbidden');
    assertError(await importing({ source: {} }, users), 403, 'forbidden');
    await client.call('PATCH', '/v1/settings', { key: admin, body: { policy: 'disabled' } });
    try {
      const reply = await importing({ source: { lee: { secret: cpanelSecret() } } });
      assert.equal(reply.body.counts.imported, 1);
    } finally {
      await client.call('PATCH', '/v1/settings', { key: admin, body: { policy: 'enabled' } });
    }
  });

  it('no secret it was sent is in an answer, a log line or an audit event', async () => {
    const answers: string[] = [];
    for (const key of [admin, support]) {
      answers.push((await client.call('GET', '/v1/audit?limit=100', { key: support })).text);
      answers.push((await client.call('GET', '/v1/users?limit=100', { key })).text);
    }
    for (const userId of ['bob', 'carol', 'dan', 'gus']) {
      answers.push((await client.call('GET', `/v1/users/${userId}`, { key: support })).text);
    }
    const replay = await importing({ source: { bob: { secret: [...secretsSent][0] } }, dryRun: true });
    answers.push(replay.text);
    const haystacks = { answers: answers.join('\n'), logs: logs(), table: await raw.snapshot() };
    assert.ok(secretsSent.size > 1000);
    for (const secret of secretsSent) {
      for (const [where, text] of Object.entries(haystacks)) {
        assert.ok(!text.includes(secret), `a secret is in the ${where}`);
        assert.ok(
          !text.toLowerCase().includes(secret.toLowerCase()),
          `a secret is in the ${where}, lower-cased`,
        );
      }
    }
  });
});

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { before, describe, it } from 'node:test';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { movableClock } from '../support/clock.ts';
import { checkResponse } from '../support/contract.ts';
import { base32Decode, codeFor, freshStep } from '../support/otp.ts';
import { type Reply, startTestService } from '../support/service.ts';
import { rawStore } from '../support/store.ts';
import { assertError, enrol, tenantWith, assertAccepted } from '../support/users.ts';

// jsqr is CommonJS whose export is also its own `default`: take the function either way.
const jsQR = jsQRModule.default ?? jsQRModule;

const service = await startTestService();
const { client, operatorKey } = service;
const store = rawStore(service.storeEndpoint);

let admin: string;
let users: string;
let support: string;
/** Everything secret that the tests saw: none of it may appear in a log line. */
const secretsSeen = new Set<string>();

before(async () => {
  admin = await client.tenant(operatorKey, 'acme', 'Acme Hosting');
  users = await client.key(admin, ['users']);
  support = await client.key(admin, ['support']);
  for (const key of [admin, users, support]) secretsSeen.add(key);
});

/** A request whose path is sent byte for byte, with no URL normalisation. */
function rawRequest(method: string, path: string, key: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(client.url);
    const req = request({ hostname, port, path, method, headers: { authorization: `Bearer ${key}` } });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        const headers = new Headers(res.headers as Record<string, string>);
        checkResponse(method, path, res.statusCode ?? 0, headers, text ? JSON.parse(text) : undefined, text);
        resolve({ status: res.statusCode ?? 0, text });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const setup = async (userId: string, body?: unknown, key = users) => {
  const reply = await client.call('POST', `/v1/users/${encodeURIComponent(userId)}/setup`, { key, body });
  if (reply.status === 201) secretsSeen.add(reply.body.secret);
  return reply;
};
const confirm = async (userId: string, code: string, key = users) => {
  const reply = await client.call('POST', `/v1/users/${encodeURIComponent(userId)}/confirm`, {
    key,
    body: { code },
  });
  for (const recovery of reply.body?.recoveryCodes ?? []) secretsSeen.add(recovery);
  return reply;
};
const verify = (userId: string, code: unknown, key = users) =>
  client.call('POST', `/v1/users/${encodeURIComponent(userId)}/verify`, { key, body: { code } });
const status = (userId: string, key = support) =>
  client.call('GET', `/v1/users/${encodeURIComponent(userId)}`, { key });

/** A user enrolled by the shared helper, its secrets remembered for the log check below. */
async function enrolUser(userId: string, key = users) {
  const enrolled = await enrol(client, key, userId);
  secretsSeen.add(enrolled.setup.secret);
  for (const code of enrolled.recoveryCodes) secretsSeen.add(code);
  return enrolled;
}

/**
 * A tenant of its own, with `settings`, for a group whose tests change or depend on
 * settings: no other group shares it. The helpers it answers act with its keys.
 */
function ownTenant(tenantId: string, settings: object) {
  const keys = { admin: '', users: '', support: '' };
  before(async () => {
    Object.assign(keys, await tenantWith(client, operatorKey, tenantId, settings));
    for (const key of [keys.admin, keys.users, keys.support]) secretsSeen.add(key);
  });
  return {
    keys,
    setup: (userId: string, body?: unknown) => setup(userId, body, keys.users),
    confirm: (userId: string, code: string) => confirm(userId, code, keys.users),
    verify: (userId: string, code: unknown, key = keys.users) => verify(userId, code, key),
    status: (userId: string) => status(userId, keys.support),
    enrolUser: (userId: string) => enrolUser(userId, keys.users),
  };
}

describe('setup', () => {
  it('answers a pending enrolment with secret, URI and both QR codes', async () => {
    const reply = await setup('bob', { accountName: 'bob@example.com' });
    assert.equal(reply.status, 201, reply.text);
    assert.deepEqual(Object.keys(reply.body).sort(), [
      'algorithm',
      'authenticatorId',
      'digits',
      'expiresAt',
      'label',
      'otpauthUri',
      'period',
      'qrPng',
      'qrSvg',
      'secret',
      'userId',
    ]);
    const { secret, otpauthUri } = reply.body;
    assert.match(secret, /^[A-Z2-7]+$/, 'base32 without padding');
    assert.ok(base32Decode(secret).length >= 20, 'at least 160 bits');
    assert.equal(
      otpauthUri,
      `otpauth://totp/Acme%20Hosting:bob%40example.com?secret=${secret}&issuer=Acme%20Hosting&algorithm=SHA1&digits=6&period=30`,
    );
    assert.deepEqual([reply.body.algorithm, reply.body.digits, reply.body.period], ['SHA1', 6, 30]);
    const expires = Date.parse(reply.body.expiresAt) - Date.now();
    assert.ok(expires > 590_000 && expires <= 600_000, `expires in ${expires} ms`);
    assert.match(reply.body.qrSvg, /^<svg[\s\S]*<\/svg>\s*$/);
    // Scannable as served: a page that shows the SVG as it is shows it at 200 px or more.
    const svgSize = /^<svg[^>]*\swidth="(\d+)"[^>]*\sheight="(\d+)"[^>]*\sviewBox="0 0 (\d+) \3"/.exec(
      reply.body.qrSvg,
    );
    assert.ok(svgSize, reply.body.qrSvg.slice(0, 200));
    assert.ok(Number(svgSize[1]) >= 200 && svgSize[1] === svgSize[2], `svg ${svgSize[1]}×${svgSize[2]}`);

    // The PNG decodes, as a phone's camera would, to exactly the URI.
    assert.match(reply.body.qrPng, /^data:image\/png;base64,/);
    const png = PNG.sync.read(Buffer.from(reply.body.qrPng.split(',')[1], 'base64'));
    assert.ok(png.width >= 200 && png.height === png.width, `png ${png.width}×${png.height}`);
    const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    assert.equal(decoded?.data, otpauthUri);
  });

  it('the account name defaults to the user id', async () => {
    const reply = await setup('carol');
    assert.match(reply.body.otpauthUri, /^otpauth:\/\/totp\/Acme%20Hosting:carol\?/);
  });

  it('every setup draws a new secret, and replaces the earlier pending one', async () => {
    await freshStep();
    const first = await setup('dave');
    const second = await setup('dave');
    assert.notEqual(first.body.secret, second.body.secret);
    assertError(await confirm('dave', codeFor(first.body)), 422, 'invalid_code');
    assert.equal((await confirm('dave', codeFor(second.body))).status, 200);
  });

  it('an enrolled user needs reconfigure: the old authenticator works until the new one is confirmed', async () => {
    const { setup: old } = await enrolUser('erin');
    assertError(await setup('erin'), 409, 'already_enrolled');
    assertError(await setup('erin', { reconfigure: false }), 409, 'already_enrolled');
    const fresh = await setup('erin', { reconfigure: true });
    assert.equal(fresh.status, 201);
    const during = await status('erin');
    assert.equal(during.body.enabled, true);
    assert.equal(during.body.pending, true);
    await freshStep();
    assertAccepted((await verify('erin', codeFor(old, 1))).body);
    assert.equal((await confirm('erin', codeFor(fresh.body))).status, 200);
    assert.deepEqual((await verify('erin', codeFor(old, 1))).body, { valid: false, reason: 'invalid_code' });
    // Replay is per user: the step the old authenticator spent is spent for the new one too.
    assert.deepEqual((await verify('erin', codeFor(fresh.body, 1))).body, {
      valid: false,
      reason: 'replayed',
    });
    const after = (await status('erin')).body;
    assert.deepEqual(
      after.authenticators.map((a: { authenticatorId: string }) => a.authenticatorId),
      [fresh.body.authenticatorId],
      'the reconfigure replaced the old authenticator',
    );
  });

  it('refuses a bad account name or reconfigure flag, naming the field', async () => {
    for (const [body, field] of [
      [{ accountName: 'a:b' }, 'accountName'],
      [{ accountName: 'bob\u2028Bank' }, 'accountName'],
      [{ accountName: '' }, 'accountName'],
      [{ accountName: 5 }, 'accountName'],
      [{ reconfigure: 'yes' }, 'reconfigure'],
    ] as const) {
      const reply = await setup('frank', body);
      assertError(reply, 400, 'invalid_request');
      assert.match(reply.body.error.message, new RegExp(field));
    }
  });
});

describe('confirm', () => {
  it('without a pending setup: 404 no_pending_setup', async () => {
    assertError(await confirm('nobody', '123456'), 404, 'no_pending_setup');
  });

  it('a wrong code is 422 invalid_code; the right one enables with ten recovery codes', async () => {
    await freshStep();
    const started = await setup('gina');
    assertError(await confirm('gina', codeFor(started.body, 3)), 422, 'invalid_code');
    const reply = await confirm('gina', codeFor(started.body));
    assert.equal(reply.status, 200);
    assert.deepEqual(Object.keys(reply.body).sort(), [
      'authenticatorId',
      'confirmedAt',
      'enabled',
      'label',
      'recoveryCodes',
      'userId',
    ]);
    assert.equal(reply.body.authenticatorId, started.body.authenticatorId, 'the id it was set up with');
    assert.equal(reply.body.label, 'Authenticator 1');
    assert.equal(reply.body.enabled, true);
    assert.equal(reply.body.recoveryCodes.length, 10);
    assert.equal(new Set(reply.body.recoveryCodes).size, 10);
    for (const code of reply.body.recoveryCodes)
      assert.match(code, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
    // The time step used to confirm cannot be used again to verify.
    assert.deepEqual((await verify('gina', codeFor(started.body))).body, {
      valid: false,
      reason: 'replayed',
    });
    const after = await status('gina');
    assert.equal(after.body.failedAttempts, 0, 'a valid code reset the count');
    assert.equal(after.body.recoveryCodesRemaining, 10);
  });

  it('an expired setup is 410 setup_expired', async () => {
    const started = await setup('hank');
    await store.setUser('acme', 'hank', 'SET pending.expiresAt = :past', {
      ':past': { N: String(Date.now() - 1) },
    });
    assertError(await confirm('hank', codeFor(started.body)), 410, 'setup_expired');
    assert.equal((await status('hank')).body.pending, false);
  });

  it('a code that is not six digits is 400', async () => {
    await setup('ivan');
    assertError(await confirm('ivan', '12345'), 400, 'invalid_request');
    assertError(await confirm('ivan', 'abcd-efgh-ijkl-mnop'), 400, 'invalid_request');
  });
});

describe('verify', () => {
  it('accepts the window now−1 to now+1 in order, and nothing outside it', async () => {
    const { setup: s } = await enrolUser('judy');
    await freshStep();
    assert.deepEqual((await verify('judy', codeFor(s, -2))).body, { valid: false, reason: 'invalid_code' });
    assert.deepEqual((await verify('judy', codeFor(s, 2))).body, { valid: false, reason: 'invalid_code' });
    assertAccepted((await verify('judy', codeFor(s, 1))).body);
  });

  it('replay: the same step, or an earlier one, is `replayed` and does not count as a failure', async () => {
    const { setup: s } = await enrolUser('kate');
    await freshStep();
    assertAccepted((await verify('kate', codeFor(s, 1))).body);
    assert.deepEqual((await verify('kate', codeFor(s, 1))).body, { valid: false, reason: 'replayed' });
    assert.deepEqual((await verify('kate', codeFor(s, 0))).body, { valid: false, reason: 'replayed' });
    assert.deepEqual((await verify('kate', codeFor(s, -1))).body, { valid: false, reason: 'replayed' });
    assert.equal((await status('kate')).body.failedAttempts, 0);
  });

  it('normalises spaces and tabs at the ends, and nothing else', async () => {
    const { setup: s } = await enrolUser('liam');
    await freshStep();
    assertAccepted((await verify('liam', ` \t${codeFor(s, 1)}\t `)).body);
  });

  it('malformed codes are 400 and count as no attempt', async () => {
    const { setup: s } = await enrolUser('mona');
    const code = codeFor(s, 1);
    for (const bad of [
      Number(code),
      '',
      '12345',
      '1234567',
      '١٢٣٤٥٦',
      `${code.slice(0, 3)} ${code.slice(3)}`,
      `\n${code}`,
      null,
      ['123456'],
    ]) {
      assertError(await verify('mona', bad), 400, 'invalid_request');
    }
    assertError(
      await client.call('POST', '/v1/users/mona/verify', { key: users, body: {} }),
      400,
      'invalid_request',
    );
    assert.equal((await status('mona')).body.failedAttempts, 0);
    // Nothing was locked or spent.
    assertAccepted((await verify('mona', code)).body);
  });

  it('not enrolled: 404 not_enrolled, also with only a pending setup', async () => {
    assertError(await verify('stranger', '123456'), 404, 'not_enrolled');
    await setup('pendy');
    assertError(await verify('pendy', '123456'), 404, 'not_enrolled');
  });

  it('ignores any client timestamp in the body', async () => {
    const { setup: s } = await enrolUser('otto');
    await freshStep();
    const reply = await client.call('POST', '/v1/users/otto/verify', {
      key: users,
      body: { code: codeFor(s, -5), time: Date.now() / 1000 - 150, timestamp: Date.now() - 150_000 },
    });
    assert.deepEqual(reply.body, { valid: false, reason: 'invalid_code' });
  });
});

describe('recovery codes', () => {
  it('each works once, in either case and with or without hyphens; the one spent last, sent again, is replayed', async () => {
    const { recoveryCodes } = await enrolUser('pete');
    const [first = '', second = ''] = recoveryCodes;
    assert.deepEqual((await verify('pete', first)).body, {
      valid: true,
      method: 'recovery',
      recoveryCodesRemaining: 9,
    });
    assert.deepEqual((await verify('pete', first)).body, { valid: false, reason: 'replayed' });
    assert.deepEqual((await verify('pete', first.toUpperCase())).body, { valid: false, reason: 'replayed' });
    assert.equal((await status('pete')).body.failedAttempts, 0, 'a replay is not a guess');
    assert.deepEqual((await verify('pete', second.replaceAll('-', '').toUpperCase())).body, {
      valid: true,
      method: 'recovery',
      recoveryCodesRemaining: 8,
    });
    // Only the code spent last is a replay: an older spent code is as wrong as any guess.
    assert.deepEqual((await verify('pete', first)).body, { valid: false, reason: 'invalid_code' });
    const seen = (await status('pete')).body;
    assert.deepEqual([seen.recoveryCodesRemaining, seen.failedAttempts], [8, 1]);
  });

  it('new codes replace the old ones', async () => {
    const { recoveryCodes: old } = await enrolUser('quin');
    const reply = await client.call('POST', '/v1/users/quin/recovery-codes', { key: users });
    assert.equal(reply.status, 200);
    assert.deepEqual(Object.keys(reply.body), ['recoveryCodes']);
    assert.equal(reply.body.recoveryCodes.length, 10);
    for (const code of reply.body.recoveryCodes) secretsSeen.add(code);
    assert.deepEqual((await verify('quin', old[0])).body, { valid: false, reason: 'invalid_code' });
    assert.equal((await verify('quin', reply.body.recoveryCodes[0])).body.valid, true);
    assertError(
      await client.call('POST', '/v1/users/nobody/recovery-codes', { key: users }),
      404,
      'not_enrolled',
    );
  });

  it('are stored only as keyed hashes, and the item stays under 1 KB', async () => {
    const { recoveryCodes, setup: s } = await enrolUser('rita');
    const item = await store.user('acme', 'rita');
    const stored = JSON.stringify(item, (_k, v) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
    );
    for (const code of recoveryCodes) {
      assert.ok(!stored.includes(code.replaceAll('-', '')));
      assert.ok(!stored.includes(Buffer.from(code).toString('hex')));
    }
    assert.ok(!stored.includes(s.secret));
    assert.ok(!stored.includes(base32Decode(s.secret).toString('hex')), 'the TOTP secret is sealed');
    assert.equal(item?.recovery?.BS?.length, 10);
    for (const hash of item?.recovery?.BS ?? []) assert.equal(hash.length, 16);
    // Reconfigure leaves a pending enrolment beside the active one: the largest a user gets.
    await setup('rita', { reconfigure: true, accountName: 'x'.repeat(128) });
    const size = itemSize((await store.user('acme', 'rita')) ?? {});
    assert.ok(size < 1024, `item is ${size} bytes`);
  });
});

describe('lockout', () => {
  const { keys, setup, confirm, verify, status, enrolUser } = ownTenant('locks', {
    lockout: { maxFailures: 3, lockSeconds: 2 },
  });
  const clock = movableClock();
  let locky: Awaited<ReturnType<typeof enrol>>;
  before(async () => {
    locky = await enrolUser('locky');
  });

  it('maxFailures failures lock; while locked even the right code answers locked, and the lock does not grow', async () => {
    await freshStep(30, 8);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual((await verify('locky', '000000')).body, { valid: false, reason: 'invalid_code' });
    }
    const locked = await verify('locky', codeFor(locky.setup, 1));
    assert.equal(locked.body.valid, false);
    assert.equal(locked.body.reason, 'locked');
    assert.ok(locked.body.retryAfterSeconds >= 1 && locked.body.retryAfterSeconds <= 2);
    const before = (await status('locky')).body.lockedUntil;
    // The lock is the user's, not the caller's: another key meets the same lock.
    const otherKey = await client.key(keys.admin, ['users'], 'another panel');
    assert.equal((await verify('locky', codeFor(locky.setup, 1), otherKey)).body.reason, 'locked');
    await verify('locky', '000000');
    assert.equal((await status('locky')).body.lockedUntil, before, 'attempts while locked do not extend it');
    const seen = await status('locky');
    assert.equal(seen.body.failedAttempts, 3, 'attempts while locked are not counted');

    clock.advance(2100);
    assertAccepted((await verify('locky', codeFor(locky.setup, 1))).body);
    const cleared = await status('locky');
    assert.equal(cleared.body.failedAttempts, 0);
    assert.equal(cleared.body.lockedUntil, null);
  });

  it('wrong codes at confirm count too, and confirm while locked is 423', async () => {
    await setup('confy');
    for (let i = 0; i < 3; i++) assertError(await confirm('confy', '000000'), 422, 'invalid_code');
    const reply = await confirm('confy', '000000');
    assertError(reply, 423, 'locked');
    assert.ok(Number(reply.headers.get('retry-after')) >= 1);
  });

  it('support unlocks: the lock goes, and the count toward disable stays', async () => {
    const { setup: s } = await enrolUser('unlo');
    for (let i = 0; i < 3; i++) await verify('unlo', '000000');
    assert.equal((await verify('unlo', codeFor(s, 1))).body.reason, 'locked');
    const reply = await client.call('POST', '/v1/users/unlo/unlock', { key: keys.support });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.lockedUntil, null);
    assert.equal(reply.body.enabled, true);
    assert.equal(reply.body.failedAttempts, 3, 'failures since the last valid code are kept');
    assertAccepted((await verify('unlo', codeFor(s, 1))).body);
    assert.equal((await status('unlo')).body.failedAttempts, 0);
  });
});

describe('a lock lasts lockSeconds from the last counted failure', () => {
  const {
    setup: _,
    verify,
    status,
    enrolUser,
  } = ownTenant('longlocks', {
    lockout: { maxFailures: 2, lockSeconds: 600 },
  });
  const clock = movableClock();

  it('locked until the last failure plus lockSeconds, to the second; then the right code works', async () => {
    const { setup: s } = await enrolUser('clocky');
    await verify('clocky', '000000');
    await verify('clocky', '000000');
    const until = Date.parse((await status('clocky')).body.lockedUntil);
    assert.ok(until > Date.now() + 590_000, 'ten minutes');
    const codeAt = (ms: number) => codeFor(s, 0, ms);
    clock.setTo(until - 1000);
    const locked = await verify('clocky', codeAt(until - 1000));
    assert.deepEqual(locked.body, { valid: false, reason: 'locked', retryAfterSeconds: 1 });
    clock.setTo(until + 10);
    assertAccepted((await verify('clocky', codeAt(until + 10))).body);
    assert.equal((await status('clocky')).body.lockedUntil, null);
  });
});

describe('disable after 100 consecutive failures', () => {
  const { keys, setup, confirm, verify, status, enrolUser } = ownTenant('disables', {
    lockout: { maxFailures: 100, lockSeconds: 1 },
  });
  const clock = movableClock();

  it('disables; unlock does not lift it; a reconfigure confirmed with a new authenticator does', async () => {
    const { setup: s } = await enrolUser('dis');
    for (let i = 0; i < 100; i++) await verify('dis', '000000');
    clock.advance(1100);
    await freshStep();
    assert.deepEqual((await verify('dis', codeFor(s, 1))).body, { valid: false, reason: 'disabled' });
    const seen = await status('dis');
    assert.equal(seen.body.disabled, true);
    assert.equal(seen.body.failedAttempts, 100);
    await client.call('POST', '/v1/users/dis/unlock', { key: keys.support });
    assert.deepEqual((await verify('dis', codeFor(s, 1))).body, { valid: false, reason: 'disabled' });
    assert.equal((await status('dis')).body.disabled, true);

    const fresh = await setup('dis', { reconfigure: true });
    assert.equal((await confirm('dis', codeFor(fresh.body))).status, 200);
    const after = await status('dis');
    assert.equal(after.body.disabled, false);
    assert.equal(after.body.failedAttempts, 0);
    assertAccepted((await verify('dis', codeFor(fresh.body, 1))).body);
  });

  it('the disable is one audit event: lockout, outcome disabled, with its reason', async () => {
    await enrolUser('dis3');
    for (let i = 0; i < 100; i++) await verify('dis3', '000000');
    assert.deepEqual((await verify('dis3', '000000')).body, { valid: false, reason: 'disabled' });
    const audit = await client.call('GET', '/v1/audit?userId=dis3&limit=100', { key: keys.support });
    assert.equal(audit.status, 200, audit.text);
    const disables = audit.body.events.filter(
      (e: { action: string; outcome: string }) => e.action === 'lockout' && e.outcome === 'disabled',
    );
    assert.equal(disables.length, 1, JSON.stringify(audit.body.events.slice(0, 3)));
    assert.equal(disables[0].reason, '100 consecutive failed attempts: authenticator disabled');
  });

  it('removal lifts the disable too', async () => {
    await enrolUser('dis2');
    for (let i = 0; i < 100; i++) await verify('dis2', '000000');
    assert.equal((await status('dis2')).body.disabled, true);
    await client.call('DELETE', '/v1/users/dis2', { key: keys.support });
    const { setup: s } = await enrolUser('dis2');
    assert.equal((await status('dis2')).body.disabled, false);
    assert.equal((await verify('dis2', codeFor(s, 1))).body.valid, true);
  });
});

describe('sealed secrets', () => {
  it("a sealed secret copied into another user's record does not open: verify fails closed", async () => {
    const { setup: a } = await enrolUser('owner');
    await enrolUser('thief');
    const owned = (await store.user('acme', 'owner'))?.auths?.M ?? {};
    const stolen = Object.values(owned)[0]?.M?.secret;
    assert.ok(stolen?.B);
    const thiefs = Object.keys((await store.user('acme', 'thief'))?.auths?.M ?? {})[0] as string;
    await store.setUser('acme', 'thief', 'SET auths.#a.secret = :s', { ':s': stolen }, { '#a': thiefs });
    await freshStep();
    const reply = await verify('thief', codeFor(a, 1));
    assertError(reply, 500, 'internal_error');
    assertAccepted((await verify('owner', codeFor(a, 1))).body);
  });
});

describe('status and removal', () => {
  it('status has exactly the contract fields and never a secret', async () => {
    const { setup: s } = await enrolUser('sara');
    await verify('sara', codeFor(s, 1));
    for (const key of [users, support]) {
      const reply = await status('sara', key);
      assert.equal(reply.status, 200);
      assert.deepEqual(Object.keys(reply.body).sort(), [
        'authenticators',
        'clockSkew',
        'confirmedAt',
        'disabled',
        'enabled',
        'enforced',
        'enrolment',
        'failedAttempts',
        'lastVerifiedAt',
        'lockedUntil',
        'pending',
        'recoveryCodesRemaining',
        'registered',
        'source',
        'userId',
        'weakSecret',
      ]);
      assert.equal(reply.body.source, 'setup');
      assert.equal(reply.body.weakSecret, false, 'setup makes 160-bit secrets');
      assert.equal(reply.body.enabled, true);
      assert.equal(reply.body.enforced, true);
      assert.match(reply.body.lastVerifiedAt, /Z$/);
      assert.ok(!reply.text.includes(s.secret));
      assert.deepEqual(reply.body.authenticators, [
        {
          authenticatorId: s.authenticatorId,
          label: 'Authenticator 1',
          confirmedAt: reply.body.confirmedAt,
          lastUsedAt: reply.body.lastVerifiedAt,
          source: 'setup',
          importedFrom: null,
          weakSecret: false,
          weakReasons: [],
          algorithm: 'SHA1',
          digits: 6,
          period: 30,
        },
      ]);
    }
  });

  it('an unknown user is not an error', async () => {
    const reply = await status('ghost');
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, {
      userId: 'ghost',
      enabled: false,
      pending: false,
      enforced: false,
      confirmedAt: null,
      lastVerifiedAt: null,
      failedAttempts: 0,
      lockedUntil: null,
      disabled: false,
      recoveryCodesRemaining: 0,
      source: null,
      weakSecret: null,
      authenticators: [],
      registered: false,
      enrolment: { state: 'unregistered', dueAt: null, mustEnrol: false },
      clockSkew: null,
    });
  });

  it('removal is idempotent and removes active, pending and recovery codes', async () => {
    const { setup: s, recoveryCodes } = await enrolUser('tom');
    await setup('tom', { reconfigure: true });
    const removed = await client.call('DELETE', '/v1/users/tom', {
      key: support,
      body: { reason: 'ticket 4711' },
    });
    assert.equal(removed.status, 200);
    assert.deepEqual(removed.body, { userId: 'tom', removed: true });
    const again = await client.call('DELETE', '/v1/users/tom', { key: users });
    assert.deepEqual(again.body, { userId: 'tom', removed: false });
    assertError(await verify('tom', codeFor(s)), 404, 'not_enrolled');
    assertError(await verify('tom', recoveryCodes[0]), 404, 'not_enrolled');
    const seen = await status('tom');
    assert.equal(seen.body.enabled, false);
    assert.equal(seen.body.pending, false);
    // An enrolled user stays registered: its item keeps the registration, and nothing else.
    const left = await store.user('acme', 'tom');
    assert.deepEqual([left?.auths, left?.pending, left?.recovery], [undefined, undefined, undefined]);
    assert.equal(seen.body.registered, true);
    const forgotten = await client.call('DELETE', '/v1/users/tom', { key: users, body: { forget: true } });
    assert.deepEqual(forgotten.body, { userId: 'tom', removed: true });
    assert.equal((await status('tom')).body.registered, false);
  });
});

describe('policy', () => {
  const { keys, setup, confirm, verify, status, enrolUser } = ownTenant('policies', {});
  it('policy disabled: setup and verify are 403 policy_disabled, status says not enforced', async () => {
    const { setup: s } = await enrolUser('vera');
    await client.call('PATCH', '/v1/settings', { key: keys.admin, body: { policy: 'disabled' } });
    try {
      assertError(await setup('walt'), 403, 'policy_disabled');
      assertError(await verify('vera', codeFor(s, 1)), 403, 'policy_disabled');
      const seen = await status('vera');
      assert.equal(seen.body.enabled, true);
      assert.equal(seen.body.enforced, false);
    } finally {
      await client.call('PATCH', '/v1/settings', { key: keys.admin, body: { policy: 'enabled' } });
    }
    assert.equal((await verify('vera', codeFor(s, 1))).body.valid, true);
  });

  it('an enrolment keeps its parameters and issuer when the settings change', async () => {
    await client.call('PATCH', '/v1/settings', {
      key: keys.admin,
      body: { issuer: 'Policy Eight', totp: { algorithm: 'SHA256', digits: 8, period: 60 } },
    });
    let eight: Reply;
    try {
      eight = await setup('xena');
      assert.deepEqual([eight.body.algorithm, eight.body.digits, eight.body.period], ['SHA256', 8, 60]);
      assert.match(
        eight.body.otpauthUri,
        /^otpauth:\/\/totp\/Policy%20Eight:xena\?.*&algorithm=SHA256&digits=8&period=60$/,
      );
      await freshStep(60);
      assert.equal((await confirm('xena', codeFor(eight.body))).status, 200);
    } finally {
      await client.call('PATCH', '/v1/settings', {
        key: keys.admin,
        body: { issuer: 'policies', totp: { algorithm: 'SHA1', digits: 6, period: 30 } },
      });
    }
    await freshStep(60);
    assertError(await verify('xena', codeFor(eight.body).slice(2)), 400, 'invalid_request');
    assertAccepted((await verify('xena', codeFor(eight.body, 1))).body);
  });
});

describe('listing users', () => {
  it('pages through every enrolled user exactly once, in user-id order, with a status filter', async () => {
    const admin2 = await client.tenant(operatorKey, 'lister');
    const users2 = await client.key(admin2, ['users']);
    const support2 = await client.key(admin2, ['support']);
    const enabled: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = `u${String(i).padStart(2, '0')}`;
      await freshStep();
      const s = await client.call('POST', `/v1/users/${id}/setup`, { key: users2 });
      secretsSeen.add(s.body.secret);
      if (i % 2 === 0) {
        await client.call('POST', `/v1/users/${id}/confirm`, {
          key: users2,
          body: { code: codeFor(s.body) },
        });
        enabled.push(id);
      }
    }
    const all = await pages(support2, '');
    assert.deepEqual(
      all.map((u) => u.userId),
      ['u00', 'u01', 'u02', 'u03', 'u04', 'u05', 'u06'],
    );
    assert.deepEqual(Object.keys(all[0] ?? {}).sort(), [
      'authenticators',
      'confirmedAt',
      'disabled',
      'enabled',
      'enrolment',
      'lastVerifiedAt',
      'lockedUntil',
      'pending',
      'registered',
      'source',
      'userId',
      'weakSecret',
    ]);
    assert.deepEqual(
      all.map((u) => u.authenticators),
      all.map((u) => (u.enabled ? 1 : 0)),
      'the number of active authenticators',
    );
    assert.deepEqual(
      (await pages(support2, '&status=enabled')).map((u) => u.userId),
      enabled,
    );
    assert.deepEqual(
      (await pages(support2, '&status=pending')).map((u) => u.userId),
      ['u01', 'u03', 'u05'],
    );
    const last = await client.call('GET', '/v1/users?limit=100', { key: support2 });
    assert.equal(last.body.nextCursor, null);
    assert.ok(!JSON.stringify(all).includes('secret'));
  });

  it('a filtered page does bounded work, however few users match', async () => {
    const admin3 = await client.tenant(operatorKey, 'manyusers');
    const users3 = await client.key(admin3, ['users']);
    const support3 = await client.key(admin3, ['support']);
    const ids = Array.from({ length: 320 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    for (let i = 0; i < ids.length; i += 16) {
      await Promise.all(
        ids.slice(i, i + 16).map((id) => client.call('POST', `/v1/users/${id}/setup`, { key: users3 })),
      );
    }
    await freshStep();
    const last = await client.call('POST', '/v1/users/zz/setup', { key: users3 });
    await client.call('POST', '/v1/users/zz/confirm', { key: users3, body: { code: codeFor(last.body) } });

    const calls: number[] = [];
    const found: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      service.storeProxy.clear();
      const query: string = `/v1/users?status=enabled&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const reply: Reply = await client.call('GET', query, { key: support3 });
      assert.equal(reply.status, 200, reply.text);
      calls.push(service.storeProxy.seen.filter((r) => r.target.startsWith('DynamoDB')).length);
      found.push(...reply.body.users.map((u: { userId: string }) => u.userId));
      cursor = reply.body.nextCursor;
      if (cursor === null) break;
    }
    assert.equal(cursor, null, 'the listing ends');
    assert.deepEqual(found, ['zz'], 'every match exactly once');
    // The key's read, then at most three chunks: a query of the index and a batch read each.
    assert.ok(Math.max(...calls) <= 7, `store calls per page: ${calls.join(', ')}`);
    assert.ok(calls.length >= 2, 'the 321 users took more than one bounded page');
  });

  it('refuses a cursor from another tenant, a forged one, a bad limit or status', async () => {
    const first = await client.call('GET', '/v1/users?limit=1', { key: support });
    assert.equal(first.status, 200);
    const cursor = first.body.nextCursor as string;
    assert.ok(cursor);
    const otherAdmin = await client.tenant(operatorKey, 'nosy');
    const otherSupport = await client.key(otherAdmin, ['support']);
    assertError(
      await client.call('GET', `/v1/users?cursor=${encodeURIComponent(cursor)}`, { key: otherSupport }),
      400,
      'invalid_cursor',
    );
    const forged = `${Buffer.from(JSON.stringify({ l: 'users', p: 'a' })).toString('base64url')}.${cursor.split('.')[1]}`;
    assertError(
      await client.call('GET', `/v1/users?cursor=${forged}`, { key: support }),
      400,
      'invalid_cursor',
    );
    for (const query of [
      'limit=0',
      'limit=101',
      'limit=abc',
      'limit=1.5',
      'status=asleep',
      'status=Locked',
    ]) {
      assertError(await client.call('GET', `/v1/users?${query}`, { key: support }), 400, 'invalid_request');
    }
  });

  describe('by state (on a clock of its own: it moves it by hours)', () => {
    const rowClock = movableClock();
    it('rows carry the lock, the disable and a weak imported secret; locked and disabled filter', async () => {
      const t = await tenantWith(client, operatorKey, 'rowstates', {
        lockout: { maxFailures: 4, lockSeconds: 600 },
      });
      for (const id of ['dora', 'lena', 'olga']) await enrolUser(id, t.users);
      const imported = await client.call('POST', '/v1/import/cpanel', {
        key: t.admin,
        body: { source: { weak: { secret: 'JBSWY3DPEHPK3PXP' } } },
      });
      assert.equal(imported.status, 200, imported.text);
      // dora: 100 failures, four at a time with each lock waited out on the service's clock.
      for (let round = 0; round < 25; round++) {
        for (let i = 0; i < 4; i++) await verify('dora', '000000', t.users);
        rowClock.advance(601_000);
      }
      for (let i = 0; i < 4; i++) await verify('lena', '000000', t.users);
      const rows = Object.fromEntries((await pages(t.support, '')).map((u) => [u.userId, u]));
      assert.deepEqual(
        Object.fromEntries(
          Object.entries(rows).map(([id, u]) => [
            id,
            [u.disabled, u.lockedUntil !== null, u.source, u.weakSecret],
          ]),
        ),
        {
          dora: [true, false, 'setup', false],
          lena: [false, true, 'setup', false],
          olga: [false, false, 'setup', false],
          weak: [false, false, 'import', true],
        },
      );
      assert.deepEqual(
        (await pages(t.support, '&status=locked')).map((u) => u.userId),
        ['lena'],
      );
      assert.deepEqual(
        (await pages(t.support, '&status=disabled')).map((u) => u.userId),
        ['dora'],
      );
    });
  });

  async function pages(key: string, filter: string) {
    const seen: ({ userId: string } & Record<string, any>)[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const query: string = `/v1/users?limit=2${filter}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const reply = await client.call('GET', query, { key });
      assert.equal(reply.status, 200, reply.text);
      assert.ok(reply.body.users.length <= 2);
      seen.push(...reply.body.users);
      cursor = reply.body.nextCursor;
      if (cursor === null) return seen;
      if (filter === '')
        assert.ok(reply.body.users.length > 0, 'an unfiltered page before the last is never empty');
    }
    throw new Error('too many pages');
  }
});

describe('isolation and access', () => {
  it("another tenant's user looks exactly like an unknown user", async () => {
    await enrolUser('shared-name');
    const otherAdmin = await client.tenant(operatorKey, 'evil');
    const otherUsers = await client.key(otherAdmin, ['users']);
    const seen = await status('shared-name', otherUsers);
    const unknown = await status('never-existed', otherUsers);
    assert.equal(seen.status, unknown.status);
    assert.deepEqual(seen.body, { ...unknown.body, userId: 'shared-name' });
    assertError(await verify('shared-name', '123456', otherUsers), 404, 'not_enrolled');
    assert.deepEqual((await client.call('DELETE', '/v1/users/shared-name', { key: otherUsers })).body, {
      userId: 'shared-name',
      removed: false,
    });
    assert.equal((await status('shared-name')).body.enabled, true, 'untouched in its own tenant');
  });

  it('user ids: percent-encoded characters work; anything outside the set is 400 invalid_user_id', async () => {
    const reply = await setup('bob+tag@example.com');
    assert.equal(reply.status, 201);
    assert.equal(reply.body.userId, 'bob+tag@example.com');
    for (const bad of ['bob%20smith', 'b%C3%B8b', 'a%2Fb', 'x'.repeat(129), 'bob%23']) {
      assertError(await client.call('GET', `/v1/users/${bad}`, { key: support }), 400, 'invalid_user_id');
    }
    // Sent as they are (fetch would resolve them as dot segments): no router may reach them.
    for (const dots of ['.', '..', '%2E', '%2e%2E']) {
      for (const [method, suffix, key] of [
        ['GET', '', support],
        ['POST', '/verify', users],
        ['DELETE', '', support],
      ] as const) {
        const reply = await rawRequest(method, `/v1/users/${dots}${suffix}`, key);
        assert.equal(reply.status, 400, `${method} ${dots}${suffix}: ${reply.text}`);
        assert.equal(JSON.parse(reply.text).error.code, 'invalid_user_id');
      }
    }
  });

  it('scopes: users may not list or unlock; support may not set up, confirm, verify or make codes', async () => {
    assertError(await client.call('GET', '/v1/users', { key: users }), 403, 'forbidden');
    assertError(await client.call('POST', '/v1/users/bob/unlock', { key: users }), 403, 'forbidden');
    assertError(await setup('bob', undefined, support), 403, 'forbidden');
    assertError(await confirm('bob', '123456', support), 403, 'forbidden');
    assertError(await verify('bob', '123456', support), 403, 'forbidden');
    assertError(
      await client.call('POST', '/v1/users/bob/recovery-codes', { key: support }),
      403,
      'forbidden',
    );
    assertError(await verify('bob', '123456', 'nonsense'), 401, 'unauthorized');
    // An unauthenticated caller learns nothing, not even that a user id is malformed.
    assertError(await client.call('GET', '/v1/users/bad%20id'), 401, 'unauthorized');
  });
});

describe('logs', () => {
  it('no secret, recovery code or key appears in any line written during these tests', () => {
    const output = service.logs();
    assert.ok(secretsSeen.size > 20, 'the tests did see secrets');
    for (const secret of secretsSeen) {
      assert.ok(!output.includes(secret), 'a secret reached the logs');
      assert.ok(!output.includes(secret.replaceAll('-', '')), 'a recovery code reached the logs');
    }
  });
});

/** DynamoDB's item size: attribute names plus values (numbers approximated by their digits). */
function itemSize(item: Record<string, unknown>): number {
  const valueSize = (value: any): number => {
    if (value.S !== undefined) return Buffer.byteLength(value.S);
    if (value.N !== undefined) return Math.ceil(value.N.length / 2) + 1;
    if (value.B !== undefined) return value.B.length;
    if (value.BOOL !== undefined) return 1;
    if (value.BS !== undefined) return value.BS.reduce((n: number, b: Uint8Array) => n + b.length, 0);
    if (value.SS !== undefined) return value.SS.reduce((n: number, s: string) => n + Buffer.byteLength(s), 0);
    if (value.M !== undefined) return 3 + itemSize(value.M);
    return 1;
  };
  return Object.entries(item).reduce((n, [name, value]) => n + Buffer.byteLength(name) + valueSize(value), 0);
}

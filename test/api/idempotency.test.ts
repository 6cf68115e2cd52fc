import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tfaClient } from '../../client/tfaClient.ts';
import { contractFetch } from '../support/contract.ts';
import { startFaultProxy } from '../support/faultProxy.ts';
import { base32Decode, codeFor, freshStep } from '../support/otp.ts';
import { type Reply, startSecondServer, startTestService } from '../support/service.ts';
import { LEASE_MS } from '../../lib/domain/idempotency.ts';
import { rawStore } from '../support/store.ts';
import { assertAccepted, assertError, enrol } from '../support/users.ts';
import { movableClock } from '../support/clock.ts';

/**
 * Safe retries (Idempotency-Key), over HTTP against the local service: a reply lost on
 * the wire after the service acted, and the typed client's retry getting the first
 * answer, the work done once; one key racing with itself; a key reused for another
 * request; two tenants with one key string; a 5xx not kept; the answers at rest,
 * sealed; a verify keeping its answer at no store round trip more.
 */

process.env.TFA_WEBHOOK_ALLOW_LOOPBACK = '1';
const service = await startTestService();
const { client, operatorKey, storeProxy: dynamo } = service;
const store = rawStore(service.storeEndpoint);
// The wire between a panel and the service: it can drop a reply after the service answered.
const wire = await startFaultProxy(service.url);
const FAST = { baseDelayMs: 20, maxDelayMs: 50 };

const admin = await client.tenant(operatorKey, 'retries');
const users = await client.key(admin, ['users']);
const support = await client.key(admin, ['support']);
/** Every secret, code and key this file is shown: none may be found in the store's raw items but where sealed. */
const shown = new Set<string>([admin, users, support]);

/** The typed client across the wire, recording each try: its key, and how it was answered. */
function typedOnWire(key: string) {
  const tries: { status: number | 'cut'; replayed: boolean; key: string | null }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const key = request.headers.get('idempotency-key');
    try {
      const response = await contractFetch(request);
      tries.push({
        status: response.status,
        replayed: response.headers.get('idempotent-replayed') === 'true',
        key,
      });
      return response;
    } catch (error) {
      tries.push({ status: 'cut', replayed: false, key });
      throw error;
    }
  };
  return { api: tfaClient({ url: wire.url, key, retry: FAST, fetch }), tries };
}

/** The next request to `route` is served, and its reply lost before it reaches the client. */
const cutReplyOnce = (route: string) => wire.add({ target: route, fault: 'drop-reply', times: 1 });

/** The first try lost its reply, the retry (same key) got the first answer sent again. */
function assertReplayedAfterCut(tries: { status: number | 'cut'; replayed: boolean; key: string | null }[]) {
  assert.equal(tries.length, 2, JSON.stringify(tries));
  assert.equal(tries[0]?.status, 'cut');
  assert.equal(tries[1]?.replayed, true, 'the retry was answered with the first answer');
  assert.match(tries[0]?.key ?? '', /^[0-9a-f-]{36}$/, 'the client sent a key');
  assert.equal(tries[1]?.key, tries[0]?.key, 'the retry sent the same key');
  assert.equal(wire.faulted(), 1);
}

const auditActions = async (userId: string) =>
  (await client.typed(support).audit({ userId, limit: 100 })).events.map((e) => `${e.action}:${e.outcome}`);

const call = (
  method: string,
  path: string,
  key: string,
  idempotencyKey: string | undefined,
  body?: unknown,
) =>
  client.call(method, path, {
    key,
    ...(body === undefined ? {} : { body }),
    headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey },
  });

describe('a reply lost on the wire after the service acted', () => {
  it('setup: the retry answers the same secret, the one the confirm then accepts; one setup was made', async () => {
    wire.clear();
    const { api, tries } = typedOnWire(users);
    await freshStep();
    cutReplyOnce('POST /v1/users/lost-setup/setup');
    const setup = await api.users.setup('lost-setup');
    shown.add(setup.secret);
    assertReplayedAfterCut(tries);
    const confirmed = await client.typed(users).users.confirm('lost-setup', codeFor(setup));
    confirmed.recoveryCodes?.forEach((code) => shown.add(code));
    assert.deepEqual(
      (await auditActions('lost-setup')).filter((a) => a.startsWith('setup')),
      ['setup:success'],
      'one setup, not two',
    );
  });

  it('confirm: the retry answers the recovery codes stored, not already_enrolled', async () => {
    wire.clear();
    await freshStep();
    const setup = await client.typed(users).users.setup('lost-confirm');
    shown.add(setup.secret);
    const { api, tries } = typedOnWire(users);
    cutReplyOnce('POST /v1/users/lost-confirm/confirm');
    const confirmed = await api.users.confirm('lost-confirm', codeFor(setup));
    assertReplayedAfterCut(tries);
    const codes = confirmed.recoveryCodes ?? [];
    codes.forEach((code) => shown.add(code));
    assert.equal(codes.length, 10);
    const spent = await client.typed(users).users.verify('lost-confirm', codes[0] as string);
    assert.deepEqual(
      spent,
      { valid: true, method: 'recovery', recoveryCodesRemaining: 9 },
      'the codes answered are the ones stored',
    );
  });

  it('verify: the retry answers valid, not replayed, and one success is counted', async () => {
    wire.clear();
    const { setup, recoveryCodes } = await enrol(client, users, 'lost-verify');
    shown.add(setup.secret);
    recoveryCodes.forEach((code) => shown.add(code));
    await freshStep();
    const { api, tries } = typedOnWire(users);
    cutReplyOnce('POST /v1/users/lost-verify/verify');
    const code = codeFor(setup, 1);
    shown.add(code);
    assertAccepted(await api.users.verify('lost-verify', code));
    assertReplayedAfterCut(tries);
    assert.deepEqual(
      (await auditActions('lost-verify')).filter((a) => a.startsWith('verify')),
      ['verify:success'],
    );
    // Sent again without its key, the code is a replay: the step was used once.
    assert.deepEqual(await client.typed(users).users.verify('lost-verify', code), {
      valid: false,
      reason: 'replayed',
    });
  });

  it('key creation: the retry answers the key made, which works; one key was made', async () => {
    wire.clear();
    const before = (await client.typed(admin).keys.list()).keys.length;
    const { api, tries } = typedOnWire(admin);
    cutReplyOnce('POST /v1/keys');
    const key = await api.keys.create({ name: 'lost-key', scopes: ['support'] });
    shown.add(key.secret);
    assertReplayedAfterCut(tries);
    const keys = (await client.typed(admin).keys.list()).keys;
    assert.equal(keys.length, before + 1, 'one key, not two');
    assert.ok(keys.some((k) => k.id === key.id));
    assert.ok(
      (await client.typed(key.secret).users.list()).users.length > 0,
      'the answered secret is the key stored',
    );
  });

  it('webhook creation: the retry answers the endpoint made; one endpoint was made', async () => {
    wire.clear();
    const { api, tries } = typedOnWire(admin);
    cutReplyOnce('POST /v1/webhooks');
    const hook = await api.webhooks.create({ url: 'http://127.0.0.1:9/lost', events: ['*'] });
    shown.add(hook.secret);
    assertReplayedAfterCut(tries);
    const hooks = (await client.typed(admin).webhooks.list()).webhooks;
    assert.deepEqual(
      hooks.map((h) => h.id),
      [hook.id],
    );
  });

  it('import: the retry answers imported, not unchanged; the login was imported once', async () => {
    wire.clear();
    const { api, tries } = typedOnWire(admin);
    cutReplyOnce('POST /v1/import/cpanel');
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ';
    shown.add(secret);
    const result = await api.importLogins('cpanel', { source: { 'lost-import': { secret } } });
    assertReplayedAfterCut(tries);
    assert.equal(result.results[0]?.outcome, 'imported', JSON.stringify(result));
    assert.deepEqual(
      (await auditActions('lost-import')).filter((a) => a.startsWith('import')),
      ['import:success'],
    );
  });

  it("the operator's tenant creation: the retry answers the tenant and its first key, not tenant_exists", async () => {
    wire.clear();
    const { api, tries } = typedOnWire(operatorKey);
    cutReplyOnce('POST /v1/tenants');
    const created = await api.tenants.create({ tenantId: 'lost-tenant' });
    shown.add(created.apiKey.secret);
    assertReplayedAfterCut(tries);
    assert.equal((await client.typed(created.apiKey.secret).settings.get()).issuer, 'lost-tenant');
  });
});

describe('one key, one request', () => {
  it('twelve identical setups at once under one key: one is carried out, the others get its answer or wait', async () => {
    const key = 'race-setup-1';
    const replies = await Promise.all(
      Array.from({ length: 12 }, () => call('POST', '/v1/users/racer/setup', users, key, {})),
    );
    const served = replies.filter((r) => r.status === 201);
    const waiting = replies.filter((r) => r.status === 409);
    assert.equal(served.length + waiting.length, 12, replies.map((r) => r.status).join());
    for (const reply of waiting) {
      assertError(reply, 409, 'idempotency_in_flight');
      assert.ok(Number(reply.headers.get('retry-after')) >= 1);
    }
    const settled = await call('POST', '/v1/users/racer/setup', users, key, {});
    assert.equal(settled.status, 201);
    assert.equal(settled.headers.get('idempotent-replayed'), 'true');
    shown.add(settled.body.secret);
    for (const reply of served) assert.equal(reply.body.secret, settled.body.secret, 'one secret');
    assert.deepEqual(
      (await auditActions('racer')).filter((a) => a.startsWith('setup')),
      ['setup:success'],
    );
  });

  it('twenty wrong codes at once under one key count one failure, and all answer invalid_code', async () => {
    await enrol(client, users, 'race-wrong');
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        call('POST', '/v1/users/race-wrong/verify', users, 'race-wrong-1', { code: '000000' }),
      ),
    );
    for (const reply of replies)
      assert.deepEqual(reply.body, { valid: false, reason: 'invalid_code' }, reply.text);
    assert.ok(replies.some((r) => r.headers.get('idempotent-replayed') === 'true'));
    assert.equal((await client.typed(support).users.status('race-wrong')).failedAttempts, 1);
  });

  it('the right code twenty times at once under one key: every answer valid, none replayed', async () => {
    const { setup } = await enrol(client, users, 'race-right');
    shown.add(setup.secret);
    await freshStep();
    const code = codeFor(setup, 1);
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        call('POST', '/v1/users/race-right/verify', users, 'race-right-1', { code }),
      ),
    );
    for (const reply of replies) assertAccepted(reply.body);
    assert.equal(
      replies.filter((r) => r.headers.get('idempotent-replayed') !== 'true').length,
      1,
      'one was checked',
    );
  });

  it('the same key with another body, path or method is refused, and nothing is done', async () => {
    const key = 'reused-1';
    const first = await call('POST', '/v1/keys', admin, key, { name: 'first', scopes: ['users'] });
    assert.equal(first.status, 201);
    shown.add(first.body.secret);
    const before = (await client.typed(admin).keys.list()).keys.length;
    assertError(
      await call('POST', '/v1/keys', admin, key, { name: 'second', scopes: ['users'] }),
      422,
      'idempotency_key_reused',
    );
    assertError(await call('DELETE', `/v1/keys/${first.body.id}`, admin, key), 422, 'idempotency_key_reused');
    assertError(await call('POST', '/v1/users/reused/setup', admin, key, {}), 422, 'idempotency_key_reused');
    assert.equal((await client.typed(admin).keys.list()).keys.length, before);
    assert.ok(
      (await client.typed(admin).keys.list()).keys.some((k) => k.id === first.body.id),
      'not deleted',
    );
    // A verify keeps its answer on the user: another code under its key is refused, not checked.
    const { setup } = await enrol(client, users, 'reused-verify');
    shown.add(setup.secret);
    const answered = await call('POST', '/v1/users/reused-verify/verify', users, 'reused-2', {
      code: '000000',
    });
    assert.deepEqual(answered.body, { valid: false, reason: 'invalid_code' });
    assertError(
      await call('POST', '/v1/users/reused-verify/verify', users, 'reused-2', { code: codeFor(setup, 1) }),
      422,
      'idempotency_key_reused',
    );
    assert.equal((await client.typed(support).users.status('reused-verify')).failedAttempts, 1);
  });

  it('two tenants sending one key string each get their own answer', async () => {
    const otherAdmin = await client.tenant(operatorKey, 'retries-other');
    shown.add(otherAdmin);
    const key = 'shared-string';
    const mine = await call('POST', '/v1/keys', admin, key, { name: 'same', scopes: ['users'] });
    const theirs = await call('POST', '/v1/keys', otherAdmin, key, { name: 'same', scopes: ['users'] });
    assert.equal(mine.status, 201);
    assert.equal(theirs.status, 201);
    assert.equal(theirs.headers.get('idempotent-replayed'), null, 'not the other tenant’s answer');
    assert.notEqual(theirs.body.id, mine.body.id);
    assert.match(theirs.body.secret, /^tfa\.retries-other\./);
    shown.add(mine.body.secret);
    shown.add(theirs.body.secret);
    // And each tenant's retry gets its own.
    assert.equal(
      (await call('POST', '/v1/keys', otherAdmin, key, { name: 'same', scopes: ['users'] })).body.id,
      theirs.body.id,
    );
    assert.equal(
      (await call('POST', '/v1/keys', admin, key, { name: 'same', scopes: ['users'] })).body.id,
      mine.body.id,
    );
  });

  it('a first answer that was a 5xx is not kept: the retry is carried out', async () => {
    dynamo.clear();
    dynamo.add({ target: 'DynamoDB_20120810.PutItem', bodyIncludes: 'KEY#', fault: 'throttle' });
    const failed = await call('POST', '/v1/keys', admin, 'after-503', {
      name: 'after-503',
      scopes: ['users'],
    });
    assertError(failed, 503, 'service_unavailable');
    dynamo.clear();
    const retried = await call('POST', '/v1/keys', admin, 'after-503', {
      name: 'after-503',
      scopes: ['users'],
    });
    assert.equal(retried.status, 201, retried.text);
    assert.equal(retried.headers.get('idempotent-replayed'), null);
    shown.add(retried.body.secret);
  });

  it('while the first is running, the same key answers 409 idempotency_in_flight with Retry-After', async () => {
    dynamo.clear();
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    dynamo.add({
      target: 'DynamoDB_20120810.PutItem',
      bodyIncludes: 'KEY#',
      fault: { holdUntil: held },
      times: 1,
    });
    const arrived = dynamo.arrived({ target: 'DynamoDB_20120810.PutItem', bodyIncludes: 'KEY#' });
    const first = call('POST', '/v1/keys', admin, 'in-flight', { name: 'in-flight', scopes: ['users'] });
    await arrived;
    const second = await call('POST', '/v1/keys', admin, 'in-flight', {
      name: 'in-flight',
      scopes: ['users'],
    });
    assertError(second, 409, 'idempotency_in_flight');
    assert.equal(second.headers.get('retry-after'), '1');
    release();
    const answered = await first;
    assert.equal(answered.status, 201);
    shown.add(answered.body.secret);
    const third = await call('POST', '/v1/keys', admin, 'in-flight', {
      name: 'in-flight',
      scopes: ['users'],
    });
    assert.equal(third.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(third.body, answered.body);
    dynamo.clear();
  });

  it('a key outside 1 to 255 printable ASCII characters is a 400 naming the header; a GET ignores it', async () => {
    assertError(
      await call('POST', '/v1/keys', admin, 'x'.repeat(256), { name: 'long', scopes: ['users'] }),
      400,
      'invalid_request',
      /Idempotency-Key/,
    );
    assertError(
      await call('POST', '/v1/keys', admin, 'tab\there', { name: 'tab', scopes: ['users'] }),
      400,
      'invalid_request',
      /Idempotency-Key/,
    );
    const read = await call('GET', '/v1/keys', admin, 'x'.repeat(300));
    assert.equal(read.status, 200);
  });
});

describe('what a verify under a key costs', () => {
  it('no store round trip more than one without: its answer rides in the write it makes anyway', async () => {
    const calls = async (
      userId: string,
      idempotencyKey: string | undefined,
      code: (s: { secret: string }) => string,
    ) => {
      const { setup } = await enrol(client, users, userId);
      shown.add(setup.secret);
      await freshStep();
      dynamo.clear();
      const reply = await call('POST', `/v1/users/${userId}/verify`, users, idempotencyKey, {
        code: code(setup),
      });
      return {
        reply,
        calls: dynamo.seen.filter((s) => s.target.startsWith('DynamoDB')).map((s) => s.target.split('.')[1]),
      };
    };
    for (const code of [(s: { secret: string }) => codeFor(s, 1), () => '000000']) {
      const without = await calls(`cost-${code.length}-a`, undefined, code);
      const withKey = await calls(`cost-${code.length}-b`, `cost-${code.length}`, code);
      assert.equal(withKey.reply.status, 200);
      assert.deepEqual(withKey.calls, without.calls, 'the same store calls, key or none');
    }
  });
});

describe('remembered answers at rest', () => {
  it('a replay is logged as one, with no key, body or answer in the line', () => {
    const replays = service
      .logs()
      .split('\n')
      .filter((line) => line.includes('"replayed":true'));
    assert.ok(replays.length > 5, `${replays.length} replays logged`);
    for (const line of replays) {
      assert.deepEqual(
        Object.keys(JSON.parse(line))
          .filter(
            (k) =>
              !['level', 'message', 'timestamp', 'service', 'sampling_rate', 'xray_trace_id'].includes(k),
          )
          .sort(),
        ['latencyMs', 'replayed', 'requestId', 'route', 'status', 'tenant'],
      );
    }
  });

  it('every answer of this file was kept or its key freed: no warning says otherwise', () => {
    assert.doesNotMatch(
      service.logs(),
      /Idempotency-Key (was not freed|were not kept)|answer under an Idempotency-Key was not kept/,
    );
  });

  it('the raw store holds no secret, recovery code, API key or code shown in this file', async () => {
    const snapshot = await store.snapshot();
    assert.match(snapshot, /REQUESTS#retries/, 'answers are kept in the store');
    assert.match(snapshot, /"va_[0-9a-f]{64}"/, 'verify answers are kept on users');
    for (const secret of shown) {
      assert.ok(!snapshot.includes(secret), `${secret.slice(0, 12)}… is in the store as text`);
      assert.ok(
        !snapshot.includes(Buffer.from(secret, 'utf8').toString('hex')),
        `${secret.slice(0, 12)}… as bytes`,
      );
      if (/^[A-Z2-7]{16,}=*$/.test(secret)) {
        assert.ok(!snapshot.includes(base32Decode(secret).toString('hex')), 'a TOTP secret as its bytes');
      }
    }
  });

  it("an operator's answer sealed under a tenant's key is gone with the tenant", async () => {
    const first = await call('POST', '/v1/tenants', operatorKey, 'doomed-1', { tenantId: 'doomed' });
    assert.equal(first.status, 201);
    shown.add(first.body.apiKey.secret);
    const again = await call('POST', '/v1/tenants', operatorKey, 'doomed-1', { tenantId: 'doomed' });
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, first.body);
    await client.typed(operatorKey).tenants.delete('doomed', 'test');
    assertError(
      await call('POST', '/v1/tenants', operatorKey, 'doomed-1', { tenantId: 'doomed' }),
      422,
      'idempotency_key_reused',
      /destroyed with the tenant/,
    );
  });
});

describe('a request whose process died in flight (kill -9)', () => {
  const clock = movableClock();
  it('holds its key for its lease, answering 409; then the key is free and the retry is carried out', async () => {
    const body = { name: 'orphan', scopes: ['users'] };
    // Another server process takes the key, then hangs on its key's write: killed there.
    dynamo.clear();
    dynamo.add({
      target: 'DynamoDB_20120810.PutItem',
      bodyIncludes: 'KEY#',
      fault: { holdUntil: new Promise(() => undefined) },
    });
    const arrived = dynamo.arrived({ target: 'DynamoDB_20120810.PutItem', bodyIncludes: 'KEY#' });
    const doomed = await startSecondServer(service, { storeEndpoint: dynamo.url });
    const pending = doomed
      .call('POST', '/v1/keys', { key: admin, body, headers: { 'idempotency-key': 'orphan-1' } })
      .catch(() => 'killed');
    await arrived;
    doomed.process.kill('SIGKILL');
    assert.equal(await pending, 'killed');
    dynamo.clear();
    assertError(await call('POST', '/v1/keys', admin, 'orphan-1', body), 409, 'idempotency_in_flight');
    clock.advance(LEASE_MS + 1000);
    const retried = await call('POST', '/v1/keys', admin, 'orphan-1', body);
    assert.equal(retried.status, 201, retried.text);
    assert.equal(retried.headers.get('idempotent-replayed'), null, 'carried out, not replayed');
    shown.add(retried.body.secret);
    const orphans = (await client.typed(admin).keys.list()).keys.filter((k) => k.name === 'orphan');
    assert.deepEqual(
      orphans.map((k) => k.id),
      [retried.body.id],
      'one key: the dead request made none',
    );
  });
});

describe('after 24 hours', () => {
  const clock = movableClock();
  it('a key is forgotten: the same request is carried out again', async () => {
    const body = { name: 'daily', scopes: ['users'] };
    const first = await call('POST', '/v1/keys', admin, 'daily-1', body);
    shown.add(first.body.secret);
    clock.advance(24 * 3_600_000 - 60_000);
    assert.equal((await call('POST', '/v1/keys', admin, 'daily-1', body)).body.id, first.body.id);
    clock.advance(120_000);
    const later: Reply = await call('POST', '/v1/keys', admin, 'daily-1', body);
    assert.equal(later.status, 201);
    assert.equal(later.headers.get('idempotent-replayed'), null);
    assert.notEqual(later.body.id, first.body.id);
    shown.add(later.body.secret);
  });
});

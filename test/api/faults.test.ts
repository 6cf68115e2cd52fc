import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { KmsKeyVault } from '../../lib/crypto/kmsKeyVault.ts';
import { ApiError } from '../../lib/errors.ts';
import { startFakeKms } from '../support/fakeKms.ts';
import { startFaultProxy } from '../support/faultProxy.ts';
import { codeFor, freshStep } from '../support/otp.ts';
import { startTestService } from '../support/service.ts';
import { enrol, assertAccepted } from '../support/users.ts';

// The service, with its store and its KMS each behind a proxy that injects faults on the wire.
const kms = await startFakeKms();
after(() => kms.close());
const kmsProxy = await startFaultProxy(kms.url);
// The store timeout Lambda runs with, so the bounds measured here are the deployed ones.
const service = await startTestService({
  kms: { endpoint: kmsProxy.url, keyId: kms.keyId },
  storeTimeoutMs: 2000,
});
const { client, storeProxy: dynamo } = service;

after(() =>
  console.log(`# faults: ${dynamo.injected()} injected into DynamoDB, ${kmsProxy.injected()} into KMS`),
);

let admin: string;
let users: string;
before(async () => {
  admin = await client.tenant(service.operatorKey, 'faulty');
  users = await client.key(admin, ['users']);
});
beforeEach(() => {
  dynamo.clear();
  kmsProxy.clear();
});

const verify = (userId: string, code: string) =>
  client.call('POST', `/v1/users/${userId}/verify`, { key: users, body: { code } });

function assertUnavailable(reply: { status: number; body: any; headers: Headers }) {
  assert.equal(reply.status, 503, JSON.stringify(reply.body));
  assert.equal(reply.body.error.code, 'service_unavailable');
  assert.ok(Number(reply.headers.get('retry-after')) >= 1);
}

describe('a store reply lost after the write committed', () => {
  it('verify: the SDK retry finds its own write and still answers valid', async () => {
    const { setup } = await enrol(client, users, 'lost');
    await freshStep();
    dynamo.add({
      target: 'DynamoDB_20120810.UpdateItem',
      bodyIncludes: 'lastStepAt = :stepStart',
      fault: 'drop-reply',
      times: 1,
    });
    assertAccepted((await verify('lost', codeFor(setup, 1))).body);
    assert.equal(dynamo.faulted(), 1, 'the fault was injected');
    const updates = dynamo.seen.filter((s) => s.target.endsWith('UpdateItem'));
    assert.ok(updates.length >= 2, 'the SDK retried the write');
    assert.deepEqual((await verify('lost', codeFor(setup, 1))).body, { valid: false, reason: 'replayed' });
  });

  it('recovery code: the retry finds its own spend and still answers valid', async () => {
    const { recoveryCodes } = await enrol(client, users, 'lostcode');
    dynamo.add({
      target: 'DynamoDB_20120810.UpdateItem',
      bodyIncludes: 'DELETE recovery',
      fault: 'drop-reply',
      times: 1,
    });
    const reply = await verify('lostcode', recoveryCodes[0] as string);
    assert.deepEqual(reply.body, { valid: true, method: 'recovery', recoveryCodesRemaining: 9 });
    assert.equal(dynamo.faulted(), 1);
    assert.deepEqual((await verify('lostcode', recoveryCodes[0] as string)).body, {
      valid: false,
      reason: 'replayed',
    });
  });

  it('a wrong code: the retry finds its own count, and the failure is counted once', async () => {
    await enrol(client, users, 'lostfailure');
    dynamo.add({
      target: 'DynamoDB_20120810.UpdateItem',
      bodyIncludes: 'ADD failedAttempts',
      fault: 'drop-reply',
      times: 1,
    });
    assert.deepEqual((await verify('lostfailure', '000000')).body, { valid: false, reason: 'invalid_code' });
    assert.equal(dynamo.faulted(), 1);
    const status = await client.call('GET', '/v1/users/lostfailure', { key: admin });
    assert.equal(status.body.failedAttempts, 1);
  });

  it('confirm: the retry finds its own activation and the recovery codes it answers work', async () => {
    await freshStep();
    const setup = await client.call('POST', '/v1/users/lostconfirm/setup', { key: users });
    dynamo.add({
      target: 'DynamoDB_20120810.UpdateItem',
      bodyIncludes: 'pending.id = :pendingId',
      fault: 'drop-reply',
      times: 1,
    });
    const confirm = await client.call('POST', '/v1/users/lostconfirm/confirm', {
      key: users,
      body: { code: codeFor(setup.body) },
    });
    assert.equal(confirm.status, 200, confirm.text);
    assert.equal(dynamo.faulted(), 1);
    assert.equal((await verify('lostconfirm', confirm.body.recoveryCodes[0])).body.valid, true);
  });
});

describe('store outage and throttling', () => {
  it('throttled past its retries: 503 service_unavailable, never an answer', async () => {
    const { setup } = await enrol(client, users, 'throttled');
    await freshStep();
    dynamo.add({ target: 'DynamoDB_20120810.UpdateItem', fault: 'throttle' });
    assertUnavailable(await verify('throttled', codeFor(setup, 1)));
    assert.ok(dynamo.faulted() >= 3, `the SDK tried ${dynamo.faulted()} times`);
    dynamo.clear();
    // Nothing was accepted: the same code is still good once the store is back.
    assertAccepted((await verify('throttled', codeFor(setup, 1))).body);
  });

  it('unreachable: 503, in bounded time', async () => {
    const { setup } = await enrol(client, users, 'unreachable');
    dynamo.add({ target: 'DynamoDB_20120810.BatchGetItem', fault: 'reset' });
    const started = Date.now();
    assertUnavailable(await verify('unreachable', codeFor(setup, 1)));
    assert.ok(Date.now() - started < 8000);
  });

  it('slow: each attempt is cut off, and the answer is 503 in bounded time', async () => {
    const { setup } = await enrol(client, users, 'slowstore');
    dynamo.add({ target: 'DynamoDB_20120810.BatchGetItem', fault: { delayMs: 5000 } });
    const started = Date.now();
    assertUnavailable(await verify('slowstore', codeFor(setup, 1)));
    const took = Date.now() - started;
    // Three attempts of at most 2 s each, and the SDK's backoff between them.
    assert.ok(took < 8000, `took ${took} ms`);
  });

  it('a confirm that failed mid-way can be retried and succeeds', async () => {
    await freshStep();
    const setup = await client.call('POST', '/v1/users/midway/setup', { key: users });
    dynamo.add({
      target: 'DynamoDB_20120810.UpdateItem',
      bodyIncludes: 'pending.id = :pendingId',
      fault: 'throttle',
    });
    assertUnavailable(
      await client.call('POST', '/v1/users/midway/confirm', {
        key: users,
        body: { code: codeFor(setup.body) },
      }),
    );
    dynamo.clear();
    const retried = await client.call('POST', '/v1/users/midway/confirm', {
      key: users,
      body: { code: codeFor(setup.body) },
    });
    assert.equal(retried.status, 200, retried.text);
  });
});

describe('KMS', () => {
  it('a warm verify: one BatchGetItem and one conditional UpdateItem decide, one PutItem audits; no KMS, no index write', async () => {
    const { setup } = await enrol(client, users, 'warm');
    await freshStep();
    dynamo.clear();
    const before = kms.calls.length;
    assert.equal((await verify('warm', codeFor(setup, 1))).body.valid, true);
    assert.equal(kms.calls.length, before);
    assert.deepEqual(
      dynamo.seen.map((s) => s.target),
      ['DynamoDB_20120810.BatchGetItem', 'DynamoDB_20120810.UpdateItem', 'DynamoDB_20120810.PutItem'],
    );
    const write = dynamo.seen[1]?.body ?? '';
    assert.ok(!write.includes('listTenant') && !write.includes('listUser'), 'no index write on verify');
    assert.match(dynamo.seen[2]?.body ?? '', /AUDIT#faulty#warm/);
  });

  it('tenant creation generates the data key with KMS; a KMS failure is 503 and creates nothing', async () => {
    kmsProxy.add({ target: 'TrentService.GenerateDataKey', fault: 'throttle' });
    const reply = await client.call('POST', '/v1/tenants', {
      key: service.operatorKey,
      body: { tenantId: 'nokms' },
    });
    assertUnavailable(reply);
    kmsProxy.clear();
    const read = await client.call('GET', '/v1/tenants/nokms', { key: service.operatorKey });
    assert.equal(read.status, 404);
    assert.ok(kms.calls.includes('GenerateDataKey'));
  });
});

describe('the KMS adapter, over the wire', () => {
  const vault = () => new KmsKeyVault(kms.keyId, { endpoint: kmsProxy.url, region: 'local', maxAttempts: 2 });
  const isUnavailable = (e: unknown) =>
    e instanceof ApiError && e.status === 503 && e.code === 'service_unavailable';

  it('generates a data key bound to its tenant, and unwraps it only for that tenant', async () => {
    const { plaintext, wrapped } = await vault().generateDataKey('acme');
    assert.equal(plaintext.length, 32);
    assert.deepEqual(await vault().unwrapDataKey('acme', wrapped), plaintext);
    await assert.rejects(vault().unwrapDataKey('other', wrapped), isUnavailable);
  });

  it('throttling, access denied and invalid ciphertext all become 503', async () => {
    const { wrapped } = await vault().generateDataKey('acme');
    kmsProxy.add({ target: 'TrentService.Decrypt', fault: 'throttle' });
    await assert.rejects(vault().unwrapDataKey('acme', wrapped), isUnavailable);
    kmsProxy.clear();
    kms.setDeny(true);
    try {
      await assert.rejects(vault().generateDataKey('acme'), isUnavailable);
    } finally {
      kms.setDeny(false);
    }
    const tampered = Buffer.from(wrapped);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    await assert.rejects(vault().unwrapDataKey('acme', tampered), isUnavailable);
  });

  it('a slow KMS is cut off by the client timeout', async () => {
    const { wrapped } = await vault().generateDataKey('acme');
    kmsProxy.add({ target: 'TrentService.Decrypt', fault: { delayMs: 3000 } });
    const slow = new KmsKeyVault(kms.keyId, {
      endpoint: kmsProxy.url,
      region: 'local',
      maxAttempts: 1,
      requestTimeoutMs: 500,
    });
    const started = Date.now();
    await assert.rejects(slow.unwrapDataKey('acme', wrapped), isUnavailable);
    assert.ok(Date.now() - started < 2500);
  });
});

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { codeFor, freshStep } from '../support/otp.ts';
import { startTestService } from '../support/service.ts';
import { assertAccepted } from '../support/users.ts';

const service = await startTestService();
const { client, operatorKey, storeProxy } = service;

let admin: string;
let users: string;
let support: string;
let supportKeyId: string;
const secrets: string[] = [];

before(async () => {
  admin = await client.tenant(operatorKey, 'audited', 'Audited Hosting');
  users = await client.key(admin, ['users'], 'panel');
  const made = await client.call('POST', '/v1/keys', {
    key: admin,
    body: { name: 'helpdesk', scopes: ['support'] },
  });
  support = made.body.secret;
  supportKeyId = made.body.id;
  secrets.push(admin, users, support);
});

const events = async (query = '', key = support) => {
  const reply = await client.call('GET', `/v1/audit${query}`, { key });
  assert.equal(reply.status, 200, reply.text);
  return reply.body.events as any[];
};

describe('audit trail', () => {
  it("reconstructs a user's whole 2FA history, newest first, with actor and request id", async () => {
    await freshStep();
    const setup = await client.call('POST', '/v1/users/ann/setup', {
      key: users,
      headers: { 'x-request-id': 'req-setup-1' },
    });
    secrets.push(setup.body.secret);
    await client.call('POST', '/v1/users/ann/confirm', { key: users, body: { code: '000000' } });
    const confirmed = await client.call('POST', '/v1/users/ann/confirm', {
      key: users,
      body: { code: codeFor(setup.body) },
    });
    secrets.push(...confirmed.body.recoveryCodes);
    const verify = (code: string) =>
      client.call('POST', '/v1/users/ann/verify', { key: users, body: { code } });
    await verify(codeFor(setup.body, 1));
    await verify(codeFor(setup.body, 1));
    await verify('000000');
    await verify(confirmed.body.recoveryCodes[0]);
    const codes = await client.call('POST', '/v1/users/ann/recovery-codes', { key: users });
    secrets.push(...codes.body.recoveryCodes);
    await client.call('POST', '/v1/users/ann/unlock', { key: support });
    await client.call('DELETE', '/v1/users/ann', {
      key: support,
      body: { reason: 'ticket 4711: lost phone' },
    });

    const history = await events('?userId=ann');
    assert.deepEqual(
      history.map((e) => [e.action, e.outcome, e.reason ?? null]),
      [
        ['remove', 'success', 'ticket 4711: lost phone'],
        ['unlock', 'success', null],
        ['recovery_codes', 'success', null],
        ['verify', 'success', 'recovery'],
        ['verify', 'invalid_code', null],
        ['verify', 'replayed', null],
        ['verify', 'success', 'totp'],
        ['confirm', 'success', null],
        ['confirm', 'invalid_code', null],
        ['setup', 'success', null],
      ],
    );
    for (const event of history) {
      assert.deepEqual(
        Object.keys(event)
          .filter((k) => k !== 'reason' && k !== 'authenticatorId')
          .sort(),
        ['action', 'actor', 'at', 'outcome', 'requestId', 'userId'],
      );
      assert.equal(event.userId, 'ann');
      assert.match(event.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    // The events that concern one authenticator name it: the setup's, confirm's and a code's.
    assert.deepEqual(
      history.map((e) => e.authenticatorId ?? null),
      history.map((e) =>
        ['setup', 'confirm'].includes(e.action) || (e.action === 'verify' && e.reason === 'totp')
          ? setup.body.authenticatorId
          : null,
      ),
    );
    const removal = history[0];
    assert.deepEqual(removal.actor, { keyId: supportKeyId, name: 'helpdesk' });
    assert.equal(history.at(-1).requestId, 'req-setup-1');
    assert.equal(history.at(-1).actor.name, 'panel');
    const times = history.map((e) => Date.parse(e.at));
    assert.deepEqual(
      [...times].sort((a, b) => b - a),
      times,
      'newest first',
    );
  });

  it('records the lockout, and tenant-level settings and key changes', async () => {
    await client.call('PATCH', '/v1/settings', {
      key: admin,
      body: { lockout: { maxFailures: 2 }, issuer: 'Renamed' },
    });
    await freshStep();
    const setup = await client.call('POST', '/v1/users/bo/setup', { key: users });
    secrets.push(setup.body.secret);
    await client.call('POST', '/v1/users/bo/confirm', { key: users, body: { code: codeFor(setup.body) } });
    for (let i = 0; i < 3; i++)
      await client.call('POST', '/v1/users/bo/verify', { key: users, body: { code: '000000' } });
    const bo = await events('?userId=bo');
    assert.deepEqual(
      bo.slice(0, 4).map((e) => [e.action, e.outcome]),
      [
        ['verify', 'locked'],
        ['verify', 'invalid_code'],
        ['lockout', 'locked'],
        ['verify', 'invalid_code'],
      ],
    );
    assert.match(bo.find((e) => e.action === 'lockout').reason, /2 failed attempts: locked for 300 s/);

    // A name that reads like the text around it cannot forge the event: keys are described as JSON.
    const name = 'x" scopes admin';
    const made = await client.call('POST', '/v1/keys', {
      key: admin,
      body: { name, scopes: ['users'] },
    });
    secrets.push(made.body.secret);
    await client.call('DELETE', `/v1/keys/${made.body.id}`, { key: admin });
    const all = await events('?limit=100');
    const tenantEvents = all.filter((e) => e.userId === null);
    const described = { keyId: made.body.id, name, scopes: ['users'] };
    assert.deepEqual(
      tenantEvents
        .slice(0, 3)
        .map((e) => [e.action, e.action === 'settings' ? e.reason : JSON.parse(e.reason)]),
      [
        ['key_delete', described],
        ['key_create', described],
        ['settings', 'changed lockout.maxFailures, issuer'],
      ],
    );
    // Tenant-level events are in no user's history, whatever the user id.
    for (const userId of ['-', '_', '.-']) {
      assert.deepEqual(await events(`?userId=${userId}`), [], `user ${userId}`);
    }
    assert.ok(
      all.some((e) => e.userId === 'ann') && all.some((e) => e.userId === 'bo'),
      'the tenant view holds every user',
    );
  });

  it('pages newest first with tenant-bound cursors; another tenant sees nothing', async () => {
    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?userId=ann&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const reply = await client.call('GET', `/v1/audit${query}`, { key: support });
      seen.push(...reply.body.events);
      cursor = reply.body.nextCursor;
    } while (cursor);
    const whole = await events('?userId=ann&limit=100');
    assert.deepEqual(seen, whole);
    assert.equal(seen.length, 10);

    const first = await client.call('GET', '/v1/audit?limit=1', { key: support });
    const otherAdmin = await client.tenant(operatorKey, 'outsider');
    const otherSupport = await client.key(otherAdmin, ['support']);
    assert.deepEqual(await events('?userId=ann', otherSupport), []);
    assert.ok((await events('', otherSupport)).every((e) => e.action !== 'verify'));
    const stolen = await client.call('GET', `/v1/audit?cursor=${encodeURIComponent(first.body.nextCursor)}`, {
      key: otherSupport,
    });
    assert.equal(stolen.status, 400);
    assert.equal(stolen.body.error.code, 'invalid_cursor');
    const otherFilter = await client.call(
      'GET',
      `/v1/audit?userId=bo&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      { key: support },
    );
    assert.equal(otherFilter.body.error.code, 'invalid_cursor', 'a cursor belongs to its filter');
  });

  it('needs the support scope; bad parameters are 400', async () => {
    assert.equal((await client.call('GET', '/v1/audit', { key: users })).status, 403);
    assert.equal((await client.call('GET', '/v1/audit', { key: admin })).status, 200);
    assert.equal((await client.call('GET', '/v1/audit')).status, 401);
    assert.equal(
      (await client.call('GET', '/v1/audit?userId=bad%20id', { key: support })).body.error.code,
      'invalid_user_id',
    );
    assert.equal(
      (await client.call('GET', '/v1/audit?limit=0', { key: support })).body.error.code,
      'invalid_request',
    );
  });

  it('a failed audit write does not change the answer: it is logged with the event and counted', async () => {
    await freshStep();
    const setup = await client.call('POST', '/v1/users/cy/setup', { key: users });
    secrets.push(setup.body.secret);
    await client.call('POST', '/v1/users/cy/confirm', { key: users, body: { code: codeFor(setup.body) } });
    storeProxy.add({
      target: 'DynamoDB_20120810.PutItem',
      bodyIncludes: 'AUDIT#audited#cy',
      fault: 'throttle',
    });
    try {
      const reply = await client.call('POST', '/v1/users/cy/verify', {
        key: users,
        body: { code: codeFor(setup.body, 1) },
        headers: { 'x-request-id': 'audit-fails-1' },
      });
      assert.equal(reply.status, 200);
      assertAccepted(reply.body);
      assert.ok(storeProxy.faulted() >= 1, 'the audit write was faulted');
    } finally {
      storeProxy.clear();
    }
    const lines = service.logs().split('\n');
    const failure = lines.find((l) => l.includes('audit write failed') && l.includes('audit-fails-1'));
    assert.ok(failure, 'the failure is logged');
    const logged = JSON.parse(failure);
    assert.equal(logged.level, 'ERROR');
    assert.equal(logged.auditEvent.action, 'verify');
    assert.equal(logged.auditEvent.userId, 'cy');
    assert.ok(
      lines.some((l) => l.includes('"AuditWriteFailed"')),
      'and counted',
    );
    // The code was accepted, so it is spent: the lost audit line did not undo the verify.
    const again = await client.call('POST', '/v1/users/cy/verify', {
      key: users,
      body: { code: codeFor(setup.body, 1) },
    });
    assert.deepEqual(again.body, { valid: false, reason: 'replayed' });
  });

  it('events and logs hold no secret, code or key', async () => {
    const everything = JSON.stringify(await events('?limit=100'));
    const logs = service.logs();
    for (const secret of secrets) {
      assert.ok(!everything.includes(secret), 'a secret in an audit event');
      assert.ok(!logs.includes(secret), 'a secret in the logs');
    }
    assert.ok(!/"code"\s*:\s*"\d{6}"/.test(everything + logs), 'no submitted code anywhere');
  });

  it('logs one structured line per request, and EMF metrics for the verify outcomes', () => {
    const lines = service
      .logs()
      .split('\n')
      // The service's log lines; the test runner's own messages share the stream (binary,
      // V8-serialised, where "\n{" may occur by chance), so only a log line's start counts.
      .filter((l) => /^\{"(level|_aws)"/.test(l))
      .map((l) => JSON.parse(l));
    const requests = lines.filter((l) => l.message === 'request');
    assert.ok(requests.length > 20);
    for (const line of requests) {
      assert.deepEqual(
        ['latencyMs', 'requestId', 'route', 'status'].filter((k) => line[k] === undefined),
        [],
        JSON.stringify(line),
      );
    }
    assert.ok(requests.some((l) => l.tenant === 'audited' && l.route === 'POST /v1/users/{userId}/verify'));
    const metrics = new Set(
      lines.filter((l) => l._aws).flatMap((l) => l._aws.CloudWatchMetrics[0].Metrics.map((m: any) => m.Name)),
    );
    for (const name of [
      'Setup',
      'Confirm',
      'VerifyValid',
      'VerifyInvalidCode',
      'VerifyReplayed',
      'VerifyLocked',
      'Lockout',
      'DataKeyCacheHit',
      'DataKeyCacheMiss',
    ]) {
      assert.ok(metrics.has(name), `metric ${name}`);
    }
  });
});

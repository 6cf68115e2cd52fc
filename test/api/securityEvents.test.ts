import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { EVENT_TYPES } from '../../lib/domain/webhooks.ts';
import { encodeSecret } from '../../lib/domain/totp.ts';
import { codeFor, freshStep } from '../support/otp.ts';
import { startReceiver, type VerifiedEvent } from '../support/receiver.ts';
import { startTestService } from '../support/service.ts';
import { enrol } from '../support/users.ts';

/**
 * The catalogue, end to end: every event type is caused through the API as a panel
 * would, and arrives at a real receiver, verified with `standardwebhooks` and held to
 * the contract's schema. Every body is scanned for every secret, code, recovery code
 * and key this file made. The lock is mounted as an attacker would: a burst of
 * parallel wrong codes, and exactly one tfa.user.locked per lock.
 */

process.env.TFA_WEBHOOK_ALLOW_LOOPBACK = '1';
process.env.TFA_SCHEDULE_MS = '200';
const service = await startTestService();
const { client, operatorKey, storeProxy } = service;
const receiver = await startReceiver();
after(() => receiver.close());

/** Everything secret this file saw: no delivered body may hold any of it. */
const secrets = new Set<string>();
const keep = (...values: (string | undefined)[]) => {
  for (const value of values) if (value) secrets.add(value);
};

const admin = await client.tenant(operatorKey, 'catalogue');
keep(admin);
const call = async (method: string, path: string, body?: unknown) => {
  const reply = await client.call(method, path, { key: admin, ...(body === undefined ? {} : { body }) });
  assert.ok(reply.status < 300, `${method} ${path}: ${reply.text}`);
  return reply;
};
const verify = (userId: string, code: string) =>
  client.call('POST', `/v1/users/${userId}/verify`, { key: admin, body: { code } });
const hook = (await call('POST', '/v1/webhooks', { url: `${receiver.base}/all`, events: ['*'] })).body;
keep(hook.secret);

/** Waits until the events received satisfy `enough`, then a little more for strays. */
async function eventsUntil(enough: (events: VerifiedEvent[]) => boolean, seconds = 20) {
  const deadline = Date.now() + seconds * 1000;
  while (!enough(receiver.events('/all', hook.secret))) {
    if (Date.now() > deadline) {
      const got = receiver.events('/all', hook.secret).map((e) => `${e.type}:${e.data.userId}`);
      assert.fail(`not there yet; received ${got.join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The dispatcher's next runs: a duplicate or a stray would arrive by now.
  await new Promise((resolve) => setTimeout(resolve, 1200));
  return receiver.events('/all', hook.secret);
}
const of = (events: VerifiedEvent[], type: string, userId?: string | null) =>
  events.filter((e) => e.type === type && (userId === undefined || e.data.userId === userId));

describe('security events: the catalogue', () => {
  it('a burst of parallel wrong codes locks once, and says so once; 100 in a row disable, once', async () => {
    await call('PATCH', '/v1/settings', { lockout: { maxFailures: 4, lockSeconds: 120 } });
    const { setup } = await enrol(client, admin, 'burst');
    keep(setup.secret, setup.otpauthUri);
    // The right code is inside the burst: the lock must still come exactly once.
    const right = codeFor(setup, 1);
    keep(right);
    const codes = Array.from({ length: 40 }, (_, i) => (i === 17 ? right : String(100000 + i)));
    const answers = await Promise.all(codes.map((code) => verify('burst', code)));
    for (const answer of answers) assert.equal(answer.status, 200, answer.text);
    const locks = of(
      await eventsUntil((e) => of(e, 'tfa.user.locked', 'burst').length > 0),
      'tfa.user.locked',
      'burst',
    );
    assert.equal(locks.length, 1, 'one lock, one event');
    assert.equal(locks[0]?.data.failedAttempts, 4);
    assert.ok(Date.parse(locks[0]?.data.lockedUntil) > Date.now() + 100_000, 'the lock’s end');

    // 100 in a row, across locks lifted by support: the 100th disables, and says so once.
    await call('PATCH', '/v1/settings', { lockout: { maxFailures: 25, lockSeconds: 120 } });
    const { setup: other } = await enrol(client, admin, 'worn');
    keep(other.secret);
    for (let round = 0; round < 4; round++) {
      const burst = await Promise.all(
        Array.from({ length: 25 }, (_, i) => verify('worn', String(200000 + round * 25 + i))),
      );
      for (const answer of burst) assert.equal(answer.status, 200, answer.text);
      await call('POST', '/v1/users/worn/unlock');
    }
    assert.equal((await verify('worn', '999999')).body.reason, 'disabled');
    const events = await eventsUntil((e) => of(e, 'tfa.user.disabled', 'worn').length > 0);
    assert.deepEqual(
      of(events, 'tfa.user.disabled', 'worn').map((e) => e.data.consecutiveFailures),
      [100],
    );
    assert.equal(of(events, 'tfa.user.locked', 'worn').length, 4, 'one per lock');
    assert.equal(of(events, 'tfa.user.unlocked', 'worn').length, 4);
  });

  it('a lock whose report was lost (its request died after the failure) is reported by the next request that meets it, once', async () => {
    await call('PATCH', '/v1/settings', { lockout: { maxFailures: 3, lockSeconds: 120 } });
    const { setup } = await enrol(client, admin, 'cut');
    keep(setup.secret);
    // Every report of a lock is lost on the wire, after the failure that set it committed.
    storeProxy.add({
      target: 'DynamoDB_20120810.UpdateItem',
      bodyIncludes: 'lockReportedAt',
      fault: 'reset',
    });
    const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => verify('cut', String(300000 + i))));
    assert.ok(burst.some((answer) => answer.body.reason === 'locked'));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(of(receiver.events('/all', hook.secret), 'tfa.user.locked', 'cut').length, 0);
    storeProxy.clear();
    assert.equal((await verify('cut', '300009')).body.reason, 'locked');
    assert.equal((await verify('cut', '300010')).body.reason, 'locked');
    const events = await eventsUntil((e) => of(e, 'tfa.user.locked', 'cut').length > 0);
    assert.deepEqual(
      of(events, 'tfa.user.locked', 'cut').map((e) => e.data.failedAttempts),
      [3],
      'reported once, by the lock it was',
    );
  });

  it('a lock whose report was lost and that expired unseen is reported by the next failure, the one that starts counting again', async () => {
    await call('PATCH', '/v1/settings', { lockout: { maxFailures: 2, lockSeconds: 1 } });
    const { setup } = await enrol(client, admin, 'expired');
    keep(setup.secret);
    storeProxy.add({
      target: 'DynamoDB_20120810.UpdateItem',
      bodyIncludes: 'lockReportedAt',
      fault: 'reset',
    });
    for (const code of ['400001', '400002']) await verify('expired', code);
    storeProxy.clear();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(of(receiver.events('/all', hook.secret), 'tfa.user.locked', 'expired').length, 0);
    assert.equal((await verify('expired', '400003')).body.reason, 'invalid_code', 'the lock is over');
    const events = await eventsUntil((e) => of(e, 'tfa.user.locked', 'expired').length > 0);
    assert.deepEqual(
      of(events, 'tfa.user.locked', 'expired').map((e) => e.data.failedAttempts),
      [2],
    );
  });

  it('every other type arrives, with the fields the contract names, and no secret in any body', async () => {
    await call('PATCH', '/v1/settings', { lockout: { maxFailures: 5, lockSeconds: 300 } });
    // Enrolled (first), and a second authenticator (add), then removed.
    const { setup, recoveryCodes } = await enrol(client, admin, 'ann');
    keep(setup.secret, setup.otpauthUri, ...recoveryCodes);
    const added = await enrol(client, admin, 'ann', { add: true, label: 'Backup phone' });
    keep(added.setup.secret, added.setup.otpauthUri);
    await call('DELETE', `/v1/users/ann/authenticators/${added.setup.authenticatorId}`, { reason: 'lost' });

    // A recovery code spent, then sent again (replayed, reported once per step).
    await freshStep(30, 8);
    const [spent] = recoveryCodes as [string];
    assert.equal((await verify('ann', spent)).body.valid, true);
    assert.equal((await verify('ann', spent)).body.reason, 'replayed');
    assert.equal((await verify('ann', spent)).body.reason, 'replayed');
    // A time step used, then replayed twice: one event.
    const code = codeFor(setup, 1);
    keep(code);
    assert.equal((await verify('ann', code)).body.valid, true);
    assert.equal((await verify('ann', code)).body.reason, 'replayed');
    assert.equal((await verify('ann', code)).body.reason, 'replayed');

    const renewed = await call('POST', '/v1/users/ann/recovery-codes');
    keep(...(renewed.body.recoveryCodes as string[]));

    // Removed: a registered user kept; a user with only a pending setup, forgotten (its
    // item goes, and the event with it must not).
    await call('DELETE', '/v1/users/ann', { reason: 'left the company' });
    const pending = await call('POST', '/v1/users/pat/setup', {});
    keep(pending.body.secret, pending.body.otpauthUri);
    await call('DELETE', '/v1/users/pat', { forget: true });

    // Keys, an import, the settings.
    const key = await call('POST', '/v1/keys', { name: 'helpdesk', scopes: ['support'] });
    keep(key.body.secret);
    await call('DELETE', `/v1/keys/${key.body.id}`);
    const imported = encodeSecret(randomBytes(10));
    keep(imported);
    await call('POST', '/v1/import/cpanel', { source: { moved: { secret: imported } } });
    await call('POST', `/v1/webhooks/${hook.id}/test`);

    // An endpoint that answers 410: disabled, and the others told.
    receiver.answers.set('/gone', [410]);
    const gone = (await call('POST', '/v1/webhooks', { url: `${receiver.base}/gone`, events: ['*'] })).body;
    keep(gone.secret);
    await call('POST', `/v1/webhooks/${gone.id}/test`);

    const types = (events: VerifiedEvent[]) => new Set(events.map((e) => e.type));
    const events = await eventsUntil((e) => EVENT_TYPES.every((type) => types(e).has(type)));
    const one = (type: string, userId?: string | null) => {
      const found = of(events, type, userId);
      assert.equal(found.length, 1, `${type} for ${userId}: ${found.length}`);
      return (found[0] as VerifiedEvent).data;
    };
    const enrolled = of(events, 'tfa.user.enrolled', 'ann').map((e) => [e.data.mode, e.data.label]);
    assert.deepEqual(enrolled.sort(), [
      ['add', 'Backup phone'],
      ['first', setup.label],
    ]);
    const removed = one('tfa.authenticator.removed', 'ann');
    assert.deepEqual(
      [removed.authenticatorId, removed.label, removed.reason],
      [added.setup.authenticatorId, 'Backup phone', 'lost'],
    );
    assert.equal(one('tfa.recovery_code.used', 'ann').remaining, 9);
    assert.deepEqual(
      of(events, 'tfa.verification.replayed', 'ann')
        .map((e) => e.data.method)
        .sort(),
      ['recovery', 'totp'],
      'one per user and step',
    );
    one('tfa.recovery_codes.regenerated', 'ann');
    assert.deepEqual(
      [one('tfa.user.removed', 'ann').forget, one('tfa.user.removed', 'ann').reason],
      [false, 'left the company'],
    );
    assert.equal(one('tfa.user.removed', 'pat').forget, true);
    for (const type of ['tfa.key.created', 'tfa.key.deleted']) {
      const data = one(type, null);
      assert.deepEqual([data.keyId, data.name, data.scopes], [key.body.id, 'helpdesk', ['support']]);
    }
    const moved = one('tfa.user.imported', 'moved');
    assert.deepEqual([moved.format, moved.weakSecret, moved.weakReasons], ['cpanel', true, ['short']]);
    assert.equal(one('tfa.webhook.disabled', null).webhookId, gone.id);
    for (const event of events) {
      assert.equal(event.data.tenantId, 'catalogue');
      assert.ok(event.data.requestId && event.data.actor.keyId, JSON.stringify(event));
    }

    // No body holds anything secret this file made or was given, in any form.
    const bodies = receiver.received.map((r) => r.body);
    assert.ok(secrets.size > 30);
    for (const secret of secrets) {
      for (const body of bodies) assert.ok(!body.includes(secret), `a body holds a secret: ${body}`);
    }
  });

  it('the forgotten user, whose item carried its event, is neither listed nor holds anything', async () => {
    const list = await call('GET', '/v1/users?limit=100');
    assert.ok(!list.body.users.some((u: { userId: string }) => u.userId === 'pat'));
    const status = await call('GET', '/v1/users/pat');
    assert.deepEqual([status.body.enabled, status.body.pending], [false, false]);
  });
});

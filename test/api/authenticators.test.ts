import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { type AttributeValue, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Schemas } from '../../client/tfaClient.ts';
import { PROJECT_ROOT } from '../../lib/local/service.ts';
import { codeFor, freshStep } from '../support/otp.ts';
import { type Reply, startTestService } from '../support/service.ts';
import { rawStore } from '../support/store.ts';
import { assertAccepted, assertError, enrol, type TenantKeys, tenantWith } from '../support/users.ts';

/**
 * Several named authenticators per user (docs/api.md, Users): the modes of setup and
 * confirm, verify over all of them, removing and renaming one, and the races the
 * single conditional write must win: the cap, a replaced id removed meanwhile, a
 * verify landing between a confirm's read and its write, a lost store reply. And an
 * item of the first release's shape, which must keep working.
 */
const service = await startTestService();
const { client, operatorKey, storeProxy } = service;
const store = rawStore(service.storeEndpoint);
const UPDATE = 'DynamoDB_20120810.UpdateItem';

let t: TenantKeys;
before(async () => {
  t = await tenantWith(client, operatorKey, 'multi', { issuer: 'Acme Hosting' });
});

const path = (userId: string, action = '') => `/v1/users/${userId}${action}`;
const call = (method: string, userId: string, action: string, body?: unknown, key = t.users) =>
  client.call(method, path(userId, action), { key, body });
const setup = (userId: string, body?: Schemas['SetupRequest']) => call('POST', userId, '/setup', body);
const confirm = (userId: string, code: string) => call('POST', userId, '/confirm', { code });
const verify = (userId: string, code: string, authenticatorId?: string) =>
  call('POST', userId, '/verify', { code, ...(authenticatorId === undefined ? {} : { authenticatorId }) });
const status = async (userId: string, key = t.users) => (await call('GET', userId, '', undefined, key)).body;
const ids = async (userId: string) =>
  (await status(userId)).authenticators.map((a: { authenticatorId: string }) => a.authenticatorId);

/** Sets up and confirms one more authenticator for an enrolled user. */
async function add(userId: string, label?: string): Promise<Schemas['Setup']> {
  const started = await setup(userId, { add: true, ...(label === undefined ? {} : { label }) });
  assert.equal(started.status, 201, started.text);
  const confirmed = await confirm(userId, codeFor(started.body));
  assert.equal(confirmed.status, 200, confirmed.text);
  return started.body;
}

/** A right code's write held at the store's door until `release` is called. */
function holdWrite(bodyIncludes: string) {
  storeProxy.clear();
  let release = () => undefined as void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const rule = { target: UPDATE, bodyIncludes };
  storeProxy.add({ ...rule, fault: { holdUntil: gate }, times: 1 });
  return { arrived: storeProxy.arrived(rule), release };
}

describe('setup and confirm, by mode', () => {
  it('a first enrolment is "Authenticator 1"; an add joins it, keeps the recovery codes, and is named', async () => {
    await freshStep();
    const { setup: first, recoveryCodes } = await enrol(client, t.users, 'ann');
    assert.equal(first.label, 'Authenticator 1');
    assert.match(first.authenticatorId, /^au_[0-9a-f]{20}$/);
    assertError(await setup('ann'), 409, 'already_enrolled');
    const started = await setup('ann', { add: true });
    assert.equal(started.status, 201);
    assert.equal(started.body.label, 'Authenticator 2', 'the smallest N not in use');
    const confirmed = await confirm('ann', codeFor(started.body));
    assert.equal(confirmed.status, 200);
    assert.deepEqual(Object.keys(confirmed.body).sort(), [
      'authenticatorId',
      'confirmedAt',
      'enabled',
      'label',
      'userId',
    ]);
    assert.equal(confirmed.body.authenticatorId, started.body.authenticatorId);
    const now = await status('ann');
    assert.deepEqual(
      now.authenticators.map((a: { label: string }) => a.label),
      ['Authenticator 1', 'Authenticator 2'],
      'oldest first',
    );
    assert.equal(now.recoveryCodesRemaining, 10, 'an add keeps the recovery codes');
    const spent = await verify('ann', recoveryCodes[0] as string);
    assert.equal(spent.body.valid, true, 'the old recovery codes still work');
  });

  it('labels: unique without regard to case, 1 to 64 printable characters; the flags one at a time', async () => {
    await enrol(client, t.users, 'bea', { label: 'Work phone' });
    assertError(await setup('bea', { add: true, label: 'WORK PHONE' }), 409, 'label_taken');
    assertError(await setup('bea', { add: true, label: '' }), 400, 'invalid_request', 'label');
    assertError(await setup('bea', { add: true, label: 'x'.repeat(65) }), 400, 'invalid_request', 'label');
    assertError(await setup('bea', { add: true, label: 'a\u0007b' }), 400, 'invalid_request', 'label');
    assertError(await setup('bea', { add: true, reconfigure: true }), 400, 'invalid_request');
    assertError(await setup('bea', { add: true, replace: 'au_x' }), 400, 'invalid_request');
    assertError(await setup('bea', { replace: 'au_nobody' }), 404, 'authenticator_not_found');
    const home = await add('bea', 'Home tablet');
    assert.equal(home.label, 'Home tablet');
  });

  it("replace: the new one takes the named one's place; the others stay", async () => {
    const { setup: first } = await enrol(client, t.users, 'cal');
    const second = await add('cal', 'Second');
    const started = await setup('cal', { replace: first.authenticatorId, label: 'New phone' });
    assert.equal(started.status, 201);
    assert.equal((await status('cal')).authenticators.length, 2, 'until confirmed, both work');
    const confirmed = await confirm('cal', codeFor(started.body));
    assert.equal(confirmed.status, 200);
    assert.equal(confirmed.body.recoveryCodes, undefined, 'a replace keeps the recovery codes');
    assert.deepEqual(await ids('cal'), [second.authenticatorId, started.body.authenticatorId]);
  });

  it('the cap: at maxAuthenticators an add is 409; lowered meanwhile, the confirm is 409 and the pending one stays', async () => {
    const capped = await tenantWith(client, operatorKey, 'capped', { maxAuthenticators: 3 });
    const capCall = (method: string, action: string, body?: unknown) =>
      client.call(method, path('dan', action), { key: capped.users, body });
    await enrol(client, capped.users, 'dan');
    for (const label of ['Two', 'Three']) {
      const started = await capCall('POST', '/setup', { add: true, label });
      assert.equal((await capCall('POST', '/confirm', { code: codeFor(started.body) })).status, 200);
    }
    assertError(await capCall('POST', '/setup', { add: true }), 409, 'too_many_authenticators', '3');
    await client.typed(capped.admin).settings.change({ maxAuthenticators: 4 });
    const fourth = await capCall('POST', '/setup', { add: true });
    assert.equal(fourth.status, 201);
    await client.typed(capped.admin).settings.change({ maxAuthenticators: 2 });
    assertError(
      await capCall('POST', '/confirm', { code: codeFor(fourth.body) }),
      409,
      'too_many_authenticators',
    );
    const kept = (await capCall('GET', '')).body;
    assert.equal(kept.pending, true, 'the pending enrolment is kept');
    assert.equal(kept.authenticators.length, 3, 'lowering the cap keeps what the user has');
    await client.typed(capped.admin).settings.change({ maxAuthenticators: 4 });
    assert.equal((await capCall('POST', '/confirm', { code: codeFor(fourth.body) })).status, 200);
  });

  it('two adds raced past the cap: one pending enrolment survives, one authenticator is added', async () => {
    const capped = await tenantWith(client, operatorKey, 'race-cap', { maxAuthenticators: 2 });
    const users = client.typed(capped.users).users;
    await enrol(client, capped.users, 'eve');
    const setups = await Promise.all(
      [1, 2].map((n) => users.setup('eve', { add: true, label: `Racer ${n}` })),
    );
    const confirms = await Promise.all(
      setups.map((s) =>
        client.call('POST', path('eve', '/confirm'), { key: capped.users, body: { code: codeFor(s) } }),
      ),
    );
    const statuses = confirms.map((r) => r.status).sort();
    assert.deepEqual(
      statuses,
      [200, 422],
      'the replaced pending enrolment no longer exists: its code is wrong',
    );
    assert.equal((await users.status('eve')).authenticators.length, 2);
    // Both confirms of the surviving one at once: it activates once.
    const again = await users.setup('eve', {
      replace: (await users.status('eve')).authenticators[1]?.authenticatorId,
    });
    const twice = await Promise.all(
      [0, 1].map(() =>
        client.call('POST', path('eve', '/confirm'), { key: capped.users, body: { code: codeFor(again) } }),
      ),
    );
    assert.deepEqual(twice.map((r) => r.status).sort(), [200, 404], twice.map((r) => r.text).join(' '));
    assert.equal((await users.status('eve')).authenticators.length, 2, 'never past the cap');
  });

  it('a replace racing the removal of the replaced one: the removal wins, the confirm is 404, the pending one stays', async () => {
    const { setup: first } = await enrol(client, t.users, 'fay');
    const second = await add('fay', 'Second');
    const started = await setup('fay', { replace: first.authenticatorId });
    // The confirm has read the user; its write waits at the store while the removal commits.
    const held = holdWrite('pending.id = :pendingId');
    const confirming = confirm('fay', codeFor(started.body));
    await held.arrived;
    const removed = await call('DELETE', 'fay', `/authenticators/${first.authenticatorId}`, {
      reason: 'lost',
    });
    assert.deepEqual(removed.body, { userId: 'fay', authenticatorId: first.authenticatorId, removed: true });
    held.release();
    assertError(await confirming, 404, 'authenticator_not_found');
    storeProxy.clear();
    const after = await status('fay');
    assert.deepEqual(await ids('fay'), [second.authenticatorId]);
    assert.equal(after.pending, true, 'the pending enrolment is kept');
  });

  it('a confirm of an add racing a verify: the step the verify spent stays spent, and both work after', async () => {
    await freshStep();
    const { setup: first } = await enrol(client, t.users, 'gus');
    const started = await setup('gus', { add: true });
    const held = holdWrite('pending.id = :pendingId');
    const confirming = confirm('gus', codeFor(started.body));
    await held.arrived;
    assertAccepted((await verify('gus', codeFor(first, 1))).body, first.authenticatorId);
    held.release();
    assert.equal((await confirming).status, 200);
    storeProxy.clear();
    assert.deepEqual(
      (await verify('gus', codeFor(first, 1))).body,
      { valid: false, reason: 'replayed' },
      'the confirm, judged again, did not lower the used step',
    );
    assert.deepEqual(
      (await verify('gus', codeFor(started.body, 1))).body,
      { valid: false, reason: 'replayed' },
      'nor for the new one: replay is per user',
    );
    const used = (await status('gus')).authenticators[0];
    assert.ok(used.lastUsedAt, "the verify's lastUsedAt survived the confirm's write");
  });
});

describe('verify over several authenticators', () => {
  it('matches any of them without an id, names the one that matched, and only the named one with an id', async () => {
    await freshStep();
    const { setup: first } = await enrol(client, t.users, 'hal');
    const second = await add('hal');
    assertAccepted((await verify('hal', codeFor(second, 1))).body, second.authenticatorId);
    assertError(await verify('hal', codeFor(first, 1), 'au_nobody'), 404, 'authenticator_not_found');
    assert.equal((await status('hal')).failedAttempts, 0, 'an unknown id counts no attempt');
  });

  it('a step spent by one authenticator is replayed for another', async () => {
    await freshStep();
    const { setup: a } = await enrol(client, t.users, 'ida');
    const b = await add('ida');
    assertAccepted((await verify('ida', codeFor(a, 1))).body, a.authenticatorId);
    assert.deepEqual((await verify('ida', codeFor(b, 1))).body, { valid: false, reason: 'replayed' });
    assert.deepEqual((await verify('ida', codeFor(b, 0), b.authenticatorId)).body, {
      valid: false,
      reason: 'replayed',
    });
  });

  it('a wrong code counts once per authenticator checked: with three and maxFailures 5, the second locks', async () => {
    const five = await tenantWith(client, operatorKey, 'weighted', {
      lockout: { maxFailures: 5, lockSeconds: 300 },
    });
    const users = client.typed(five.users).users;
    const { setup: first } = await enrol(client, five.users, 'jon');
    for (const label of ['B', 'C']) {
      const s = await users.setup('jon', { add: true, label });
      await users.confirm('jon', codeFor(s));
    }
    const wrong = codeFor(first, 1) === '000000' ? '000001' : '000000';
    assert.deepEqual(await users.verify('jon', wrong), { valid: false, reason: 'invalid_code' });
    assert.equal((await users.status('jon')).failedAttempts, 3);
    assert.deepEqual(await users.verify('jon', wrong), { valid: false, reason: 'invalid_code' });
    const locked = await users.status('jon');
    assert.ok(locked.lockedUntil, 'the second wrong code set the lock');
    assert.equal(locked.failedAttempts, 6);
    const third = await users.verify('jon', codeFor(first, 1));
    assert.equal(third.valid === false && third.reason, 'locked', 'even the right code meets the lock');
    // Named, one authenticator is checked: one failure each, the whole budget for it.
    const { setup: kim } = await enrol(client, five.users, 'kim');
    for (let i = 1; i <= 4; i++) {
      assert.deepEqual(await users.verify('kim', wrong, kim.authenticatorId), {
        valid: false,
        reason: 'invalid_code',
      });
    }
    assert.equal((await users.status('kim')).failedAttempts, 4);
  });

  it('a lost store reply on a verify of the second authenticator still answers valid', async () => {
    await freshStep();
    await enrol(client, t.users, 'lou');
    const second = await add('lou');
    storeProxy.clear();
    storeProxy.add({
      target: UPDATE,
      bodyIncludes: 'lastStepAt = :stepStart',
      fault: 'drop-reply',
      times: 1,
    });
    assertAccepted((await verify('lou', codeFor(second, 1))).body, second.authenticatorId);
    assert.equal(storeProxy.faulted(), 1, 'the reply was lost');
    storeProxy.clear();
    assert.deepEqual((await verify('lou', codeFor(second, 1))).body, { valid: false, reason: 'replayed' });
  });

  it('a code that matches outside the window is a clock-skew hint for support and admin, never for users', async () => {
    await freshStep();
    const { setup: s } = await enrol(client, t.users, 'max');
    const ahead = await verify('max', codeFor(s, 5));
    assert.deepEqual(ahead.body, { valid: false, reason: 'invalid_code' }, 'the answer says nothing of it');
    assert.equal((await status('max')).clockSkew, null, 'a users key never sees it');
    const seen = (await status('max', t.support)).clockSkew;
    assert.equal(seen.steps, 5);
    assert.match(seen.at, /Z$/);
    assert.equal((await status('max', t.admin)).clockSkew.steps, 5);
    assert.equal((await status('max', t.support)).failedAttempts, 1, 'it still counts as a failure');
    assertAccepted((await verify('max', codeFor(s, 1))).body);
    assert.equal((await status('max', t.support)).clockSkew, null, 'a valid code clears it');
  });
});

describe('removing and renaming one authenticator', () => {
  it('removes one, keeping the others and the recovery codes; the last one removes all; idempotent; audited', async () => {
    const { setup: first, recoveryCodes } = await enrol(client, t.users, 'ned');
    const second = await add('ned', 'Backup');
    const gone = await call(
      'DELETE',
      'ned',
      `/authenticators/${first.authenticatorId}`,
      { reason: 'lost phone' },
      t.support,
    );
    assert.deepEqual(gone.body, { userId: 'ned', authenticatorId: first.authenticatorId, removed: true });
    const again = await call(
      'DELETE',
      'ned',
      `/authenticators/${first.authenticatorId}`,
      undefined,
      t.support,
    );
    assert.equal(again.body.removed, false, 'idempotent');
    assert.deepEqual(await ids('ned'), [second.authenticatorId]);
    assert.equal((await status('ned')).recoveryCodesRemaining, 10);
    await freshStep();
    assert.deepEqual((await verify('ned', codeFor(first, 1))).body, { valid: false, reason: 'invalid_code' });
    assert.equal((await verify('ned', recoveryCodes[0] as string)).body.valid, true);
    const last = await call('DELETE', 'ned', `/authenticators/${second.authenticatorId}`);
    assert.equal(last.body.removed, true);
    const none = await status('ned');
    assert.deepEqual([none.enabled, none.pending, none.recoveryCodesRemaining], [false, false, 0]);
    const events = (await client.typed(t.support).audit({ userId: 'ned' })).events;
    const removals = events.filter((e) => e.action === 'authenticator_remove');
    assert.deepEqual(
      removals.map((e) => [e.authenticatorId, e.outcome, e.reason ?? null]),
      [
        [second.authenticatorId, 'success', null],
        [first.authenticatorId, 'not_found', null],
        [first.authenticatorId, 'success', 'lost phone'],
      ],
    );
  });

  it('renames one: unique without regard to case; unknown is 404; audited', async () => {
    const { setup: first } = await enrol(client, t.users, 'ola');
    const second = await add('ola', 'Tablet');
    const renamed = await call('PATCH', 'ola', `/authenticators/${first.authenticatorId}`, {
      label: 'Old phone',
    });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.label, 'Old phone');
    assert.equal(renamed.body.authenticatorId, first.authenticatorId);
    assertError(
      await call('PATCH', 'ola', `/authenticators/${first.authenticatorId}`, { label: 'TABLET' }),
      409,
      'label_taken',
    );
    assertError(
      await call('PATCH', 'ola', '/authenticators/au_nobody', { label: 'x' }),
      404,
      'authenticator_not_found',
    );
    assertError(
      await call('PATCH', 'ola', `/authenticators/${second.authenticatorId}`, {}),
      400,
      'invalid_request',
      'label',
    );
    assertError(
      await call('PATCH', 'ola', `/authenticators/${second.authenticatorId}`, { label: 'x' }, t.support),
      403,
      'forbidden',
    );
    const labels = (await status('ola')).authenticators.map((a: { label: string }) => a.label);
    assert.deepEqual(labels, ['Old phone', 'Tablet']);
    const events = (await client.typed(t.support).audit({ userId: 'ola' })).events;
    const rename = events.find((e) => e.action === 'authenticator_rename');
    assert.equal(rename?.authenticatorId, first.authenticatorId);
  });
});

describe("an item of the first release's shape", () => {
  const fixture = readFileSync(join(PROJECT_ROOT, 'test/fixtures/first-release-user.json'), 'utf8');

  /** Rewrites a user enrolled by today's code into the first release's shape, same secret and id. */
  async function asFirstRelease(userId: string) {
    const today = (await store.user(t.id, userId)) as Record<string, AttributeValue>;
    const [id, authenticator] = Object.entries(today.auths?.M ?? {})[0] as [string, AttributeValue];
    const entry = authenticator.M as Record<string, AttributeValue>;
    const filled = JSON.parse(
      fixture
        .replaceAll('<tenant>', t.id)
        .replaceAll('<user>', userId)
        .replaceAll('<id>', id)
        .replaceAll('<createdAt>', entry.createdAt?.N as string)
        .replaceAll('<confirmedAt>', entry.confirmedAt?.N as string)
        .replaceAll('<step>', String(Number(today.lastStepAt?.N) / 30)),
    );
    delete filled._comment;
    filled.active.M.secret = entry.secret;
    filled.recovery = today.recovery;
    await store.db.send(new PutItemCommand({ TableName: store.TableName, Item: filled }));
    return id;
  }

  it('still verifies, honours its used step, and is rewritten only by a write that happens anyway', async () => {
    await freshStep();
    const { setup: s, recoveryCodes } = await enrol(client, t.users, 'pam');
    const id = await asFirstRelease('pam');
    const before = await status('pam');
    assert.equal(before.enabled, true);
    assert.deepEqual(
      before.authenticators.map((a: { authenticatorId: string; label: string }) => [
        a.authenticatorId,
        a.label,
      ]),
      [[id, 'Authenticator 1']],
    );
    assert.equal(before.recoveryCodesRemaining, 10);
    // Reads and a failure's write leave the item as it is.
    assert.deepEqual((await verify('pam', '000000')).body.valid, false);
    let raw = await store.user(t.id, 'pam');
    assert.ok(raw?.active && !raw.auths, "still the first release's shape");
    assert.deepEqual(
      (await verify('pam', codeFor(s))).body,
      { valid: false, reason: 'replayed' },
      'its lastStep holds',
    );
    const accepted = (await verify('pam', codeFor(s, 1))).body;
    assertAccepted(accepted, id);
    raw = await store.user(t.id, 'pam');
    assert.equal(raw?.active, undefined, "rewritten by the verify's write");
    assert.equal(raw?.lastStep, undefined);
    assert.ok(raw?.auths?.M?.[id]?.M?.lastUsedAt, "today's shape, the authenticator used");
    assert.equal(Number(raw?.lastStepAt?.N), (Math.floor(Date.now() / 30_000) + accepted.driftSteps) * 30);
    assert.deepEqual((await verify('pam', codeFor(s, 1))).body, { valid: false, reason: 'replayed' });
    assert.equal((await verify('pam', recoveryCodes[0] as string)).body.valid, true);
    const more = await add('pam', 'Second');
    assert.deepEqual(await ids('pam'), [id, more.authenticatorId]);
  });

  it('an add, a rename or a removal rewrites it in the same write', async () => {
    await enrol(client, t.users, 'quin');
    const id = await asFirstRelease('quin');
    const renamed: Reply = await call('PATCH', 'quin', `/authenticators/${id}`, { label: 'Phone' });
    assert.equal(renamed.status, 200, renamed.text);
    const raw = await store.user(t.id, 'quin');
    assert.equal(raw?.active, undefined);
    assert.equal(raw?.auths?.M?.[id]?.M?.label?.S, 'Phone');
    assert.ok(raw?.lastStepAt?.N, 'the used step carried over');
    await enrol(client, t.users, 'rae');
    const other = await asFirstRelease('rae');
    assert.equal((await call('DELETE', 'rae', `/authenticators/${other}`)).body.removed, true);
    // Its last authenticator: all of its 2FA state goes; an enrolled user stays registered.
    const left = await store.user(t.id, 'rae');
    assert.deepEqual([left?.active, left?.auths, left?.recovery], [undefined, undefined, undefined]);
    assert.ok(left?.registeredAt?.N && left?.unenrolledSince?.N, 'registered, unenrolled from now');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Schemas } from '../../client/tfaClient.ts';
import { useDeps } from '../../lib/deps.ts';
import { codeFor } from '../support/otp.ts';
import { DeleteItemCommand, GetItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { enrolmentMetaKey, userKey } from '../../lib/store/table.ts';
import { type Reply, startTestService } from '../support/service.ts';
import { rawStore } from '../support/store.ts';
import { assertError, type TenantKeys, tenantWith } from '../support/users.ts';

/**
 * The enrolment requirement (docs/api.md, "Enrolment requirement"): registration, due
 * dates that follow the tenant's deadline and grace period without rewriting users,
 * the filters, and counts that equal the filtered listings after any sequence of
 * changes, as time passes, and when a fold of the counts is cut half-way.
 */
const service = await startTestService();
const { client, operatorKey, storeProxy } = service;
const store = rawStore(service.storeEndpoint);
/**
 * The service's clock stands still unless a test moves it: the counts and the
 * listings they are compared with are read at one moment, and time passes by days.
 */
let now = Date.now();
before(() => useDeps({ use: { now: () => now } }));
after(() => useDeps({}));
const advance = (ms: number) => {
  now += ms;
};
const at = (days: number) => new Date(now + days * DAY).toISOString();
const DAY = 86_400_000;
const UPDATE = 'DynamoDB_20120810.UpdateItem';

type Counts = Schemas['EnrolmentReport']['counts'];
const FILTERS = ['unenrolled', 'due', 'overdue', 'exempt', 'enabled'] as const;

const register = (t: TenantKeys, userId: string, body?: unknown) =>
  client.call('PUT', `/v1/users/${userId}`, { key: t.users, ...(body === undefined ? {} : { body }) });
const remove = (t: TenantKeys, userId: string, forget = false) =>
  client.call('DELETE', `/v1/users/${userId}`, { key: t.support, body: { forget } });
const status = async (t: TenantKeys, userId: string) =>
  (await client.call('GET', `/v1/users/${userId}`, { key: t.users })).body;
const settings = async (t: TenantKeys, enrolment: Record<string, unknown>) => {
  const reply = await client.call('PATCH', '/v1/settings', { key: t.admin, body: { enrolment } });
  assert.equal(reply.status, 200, reply.text);
  return reply.body;
};
async function report(t: TenantKeys) {
  const reply = await client.call('GET', '/v1/enrolment', { key: t.support });
  assert.equal(reply.status, 200, reply.text);
  return reply.body as { counts: Counts; required: boolean; graceDays: number; asOf: string };
}
/** Every user id a filter lists, across all its pages. */
async function listed(t: TenantKeys, filter?: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query: URLSearchParams = new URLSearchParams({
      limit: '7',
      ...(filter ? { status: filter } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const reply: Reply = await client.call('GET', `/v1/users?${query}`, { key: t.support });
    assert.equal(reply.status, 200, reply.text);
    ids.push(...reply.body.users.map((u: { userId: string }) => u.userId));
    cursor = reply.body.nextCursor;
  } while (cursor);
  return ids;
}
/** The counts, and what the listings show at the same (frozen) moment. */
async function countsAgainstListings(t: TenantKeys) {
  const { counts } = await report(t);
  const shown: Record<string, number> = {};
  for (const filter of FILTERS) shown[filter] = (await listed(t, filter)).length;
  const all = await listed(t);
  const pendingOnly = (await Promise.all(all.map((id) => status(t, id)))).filter((s) => !s.registered).length;
  assert.deepEqual(
    {
      registered: counts.registered,
      enrolled: counts.enrolled,
      unenrolled: counts.unenrolled,
      due: counts.due,
      overdue: counts.overdue,
      exempt: counts.exempt,
    },
    {
      registered: all.length - pendingOnly,
      enrolled: shown.enabled,
      unenrolled: shown.unenrolled,
      due: shown.due,
      overdue: shown.overdue,
      exempt: shown.exempt,
    },
  );
  return counts;
}

/** Sets up and confirms an authenticator, with codes of the service's clock. */
async function enrolNow(t: TenantKeys, userId: string) {
  const users = client.typed(t.users).users;
  const started = await users.setup(userId);
  await users.confirm(userId, codeFor(started, 0, now));
}

describe('registration', () => {
  let t: TenantKeys;
  before(async () => {
    t = await tenantWith(client, operatorKey, 'enrol-basic', { issuer: 'Acme' });
  });

  it('registers a user, keeps the first registration time, and shows it in the list and the counts', async () => {
    const first = await register(t, 'ann');
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.registered, true);
    assert.deepEqual(first.body.enrolment, { state: 'not_required', dueAt: null, mustEnrol: false });
    assert.equal(first.body.enabled, false);
    await settings(t, { required: true, graceDays: 10 });
    const due = await status(t, 'ann');
    assert.equal(due.enrolment.state, 'due');
    const dueAt = Date.parse(due.enrolment.dueAt);
    assert.ok(Math.abs(dueAt - (now + 10 * DAY)) < 60_000, due.enrolment.dueAt);
    // Registering again keeps the time it was registered: the due date does not move.
    const again = await register(t, 'ann', {});
    assert.equal(again.body.enrolment.dueAt, due.enrolment.dueAt);
    assert.deepEqual(await listed(t), ['ann']);
    assert.deepEqual(await listed(t, 'due'), ['ann']);
    const { counts } = await report(t);
    assert.deepEqual(counts, { registered: 1, enrolled: 0, unenrolled: 1, due: 1, overdue: 0, exempt: 0 });
  });

  it('an own due date, an exemption, and null back to the rule', async () => {
    const own = await register(t, 'ben', { dueAt: '2020-01-01T00:00:00Z' });
    assert.deepEqual(own.body.enrolment, {
      state: 'overdue',
      dueAt: '2020-01-01T00:00:00.000Z',
      mustEnrol: true,
    });
    const exempt = await register(t, 'ben', { exempt: true });
    assert.equal(exempt.body.enrolment.state, 'exempt');
    const back = await register(t, 'ben', { exempt: false, dueAt: null });
    assert.equal(back.body.enrolment.state, 'due');
    const fractional = await register(t, 'cid', { dueAt: '2031-05-06T07:08:09.001Z' });
    assert.equal(
      fractional.body.enrolment.dueAt,
      '2031-05-06T07:08:10.000Z',
      'kept to the second, rounded up',
    );
  });

  it('enrolment registers the user; removal keeps it registered and due again; forget ends it', async () => {
    await enrolNow(t, 'dee');
    const enrolled = await status(t, 'dee');
    assert.equal(enrolled.registered, true);
    assert.equal(enrolled.enrolment.state, 'enrolled');
    const removed = await remove(t, 'dee');
    assert.deepEqual(removed.body, { userId: 'dee', removed: true });
    const after = await status(t, 'dee');
    assert.deepEqual([after.enabled, after.registered, after.enrolment.state], [false, true, 'due']);
    assert.ok(
      Math.abs(Date.parse(after.enrolment.dueAt) - (now + 10 * DAY)) < 60_000,
      'grace from the removal',
    );
    assert.deepEqual(
      (await remove(t, 'dee')).body,
      { userId: 'dee', removed: false },
      'nothing left to remove',
    );
    assert.deepEqual(
      (await remove(t, 'dee', true)).body,
      { userId: 'dee', removed: true },
      'forget: the registration',
    );
    const forgotten = await status(t, 'dee');
    assert.deepEqual([forgotten.registered, forgotten.enrolment.state], [false, 'unregistered']);
    assert.ok(!(await listed(t)).includes('dee'));
    await countsAgainstListings(t);
  });

  it('a pending setup alone does not register; its user is listed, not counted', async () => {
    await client.typed(t.users).users.setup('eve');
    const pending = await status(t, 'eve');
    assert.deepEqual(
      [pending.pending, pending.registered, pending.enrolment.state],
      [true, false, 'unregistered'],
    );
    assert.ok((await listed(t)).includes('eve'));
    await countsAgainstListings(t);
  });

  it('refuses bad input with a 4xx naming the problem, and writes nothing', async () => {
    for (const dueAt of ['tomorrow', '2026-12-05', '2026-12-05T10:00:00+01:00', '2026-02-30T00:00:00Z', 17]) {
      assertError(await register(t, 'fay', { dueAt }), 400, 'invalid_request', /dueAt/);
    }
    assertError(
      await register(t, 'fay', { dueDate: '2027-01-01T00:00:00Z' }),
      400,
      'invalid_request',
      /dueDate/,
    );
    assertError(await register(t, 'fay', { exempt: 'yes' }), 400, 'invalid_request', /exempt/);
    assert.equal((await status(t, 'fay')).registered, false);
    for (const enrolment of [
      { graceDays: 366 },
      { graceDays: -1 },
      { graceDays: 1.5 },
      { deadline: 'soon' },
      { colour: 1 },
    ]) {
      const reply = await client.call('PATCH', '/v1/settings', { key: t.admin, body: { enrolment } });
      assert.equal(reply.status, 400, JSON.stringify(enrolment));
    }
    assertError(
      await client.call('PATCH', '/v1/settings', { key: t.admin, body: { enrolment: { required: 'yes' } } }),
      400,
      'invalid_request',
      /enrolment.required/,
    );
    assertError(
      await client.call('GET', '/v1/users?status=late', { key: t.support }),
      400,
      'invalid_request',
      /status/,
    );
    const reply = await client.call('GET', '/v1/enrolment', { key: t.users });
    assert.equal(reply.status, 403, 'the report is for support');
  });
});

describe('due dates follow the tenant deadline and grace period', () => {
  let t: TenantKeys;
  before(async () => {
    t = await tenantWith(client, operatorKey, 'enrol-deadline', { issuer: 'Acme' });
  });

  it('moving the deadline and the grace period moves every user without its own date, and the counts with them', async () => {
    for (const id of ['u1', 'u2', 'u3']) assert.equal((await register(t, id)).status, 200);
    advance(3 * DAY);
    for (const id of ['u4', 'u5']) await register(t, id);
    await register(t, 'own', { dueAt: new Date(now + 100 * DAY).toISOString() });
    await register(t, 'free', { exempt: true });

    await settings(t, { required: true, graceDays: 2, deadline: null });
    // Grace 2 days: the first three (registered 3 days ago) are overdue, the others due.
    assert.deepEqual(await listed(t, 'overdue'), ['u1', 'u2', 'u3']);
    assert.deepEqual((await countsAgainstListings(t)).overdue, 3);

    await settings(t, { deadline: new Date(now + 5 * DAY).toISOString() });
    assert.deepEqual(await listed(t, 'overdue'), [], 'a deadline ahead: no one under the rule is overdue');
    const dueAt = (await status(t, 'u1')).enrolment.dueAt;
    assert.equal(dueAt, new Date(Math.ceil((now + 5 * DAY) / 1000) * 1000).toISOString());
    assert.equal((await countsAgainstListings(t)).due, 6);

    advance(5 * DAY + 1000);
    assert.deepEqual(await listed(t, 'overdue'), ['u1', 'u2', 'u3', 'u4', 'u5'], 'the deadline passed');
    await settings(t, { graceDays: 30 });
    assert.deepEqual(await listed(t, 'overdue'), [], 'a longer grace');
    await countsAgainstListings(t);
    await settings(t, { required: false });
    const off = await countsAgainstListings(t);
    assert.deepEqual([off.due, off.overdue, off.unenrolled], [0, 0, 6]);
    assert.equal((await status(t, 'u1')).enrolment.state, 'not_required');
    await settings(t, { required: true });
    await client.call('PATCH', '/v1/settings', { key: t.admin, body: { policy: 'disabled' } });
    assert.equal((await status(t, 'u1')).enrolment.state, 'not_required', 'the policy disabled');
    await client.call('PATCH', '/v1/settings', { key: t.admin, body: { policy: 'enabled' } });
    advance(100 * DAY);
    assert.deepEqual(await listed(t, 'overdue'), ['own', 'u1', 'u2', 'u3', 'u4', 'u5']);
    assert.deepEqual(await listed(t, 'exempt'), ['free']);
    await countsAgainstListings(t);
  });
});

describe('the counts equal the listings', () => {
  it('after any sequence of registrations, enrolments, removals, exemptions, settings changes and time passing', async () => {
    let run = 0;
    const users = ['a', 'b', 'c', 'd', 'e'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('register' as const), user: fc.constantFrom(...users) }),
      fc.record({
        kind: fc.constant('own' as const),
        user: fc.constantFrom(...users),
        days: fc.option(fc.integer({ min: -5, max: 20 })),
      }),
      fc.record({
        kind: fc.constant('exempt' as const),
        user: fc.constantFrom(...users),
        exempt: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('enrol' as const), user: fc.constantFrom(...users) }),
      fc.record({
        kind: fc.constant('remove' as const),
        user: fc.constantFrom(...users),
        forget: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('grace' as const), days: fc.integer({ min: 0, max: 15 }) }),
      fc.record({
        kind: fc.constant('deadline' as const),
        days: fc.option(fc.integer({ min: -10, max: 10 })),
      }),
      fc.record({ kind: fc.constant('required' as const), on: fc.boolean() }),
      fc.record({ kind: fc.constant('time' as const), hours: fc.integer({ min: 1, max: 24 * 12 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 12 }), async (ops) => {
        const t = await tenantWith(client, operatorKey, `enrol-prop-${run++}`, { issuer: 'Acme' });
        for (const o of ops) {
          if (o.kind === 'register') await register(t, o.user);
          else if (o.kind === 'own')
            await register(t, o.user, { dueAt: o.days === null ? null : at(o.days) });
          else if (o.kind === 'exempt') await register(t, o.user, { exempt: o.exempt });
          else if (o.kind === 'enrol') {
            if (!(await status(t, o.user)).enabled) await enrolNow(t, o.user);
          } else if (o.kind === 'remove') await remove(t, o.user, o.forget);
          else if (o.kind === 'grace') await settings(t, { graceDays: o.days });
          else if (o.kind === 'deadline')
            await settings(t, { deadline: o.days === null ? null : at(o.days) });
          else if (o.kind === 'required') await settings(t, { required: o.on });
          else advance(o.hours * 3_600_000);
        }
        await countsAgainstListings(t);
      }),
      { numRuns: 12 },
    );
  });

  it('stay exact when a fold is cut between its writes: left to its owner while fresh, finished once stale', async () => {
    const t = await tenantWith(client, operatorKey, 'enrol-cut', { issuer: 'Acme' });
    await settings(t, { required: true, graceDays: 1 });
    for (const id of ['p', 'q', 'r']) await register(t, id);
    // The next folds write their intent, then every node write is lost: they stop there.
    storeProxy.clear();
    storeProxy.add({ target: UPDATE, bodyIncludes: 'NODE#', fault: 'reset' });
    await register(t, 's');
    await register(t, 'u', { dueAt: at(-1) });
    storeProxy.clear();
    const meta = await store.db.send(
      new GetItemCommand({ TableName: store.TableName, Key: enrolmentMetaKey(t.id), ConsistentRead: true }),
    );
    assert.ok(meta.Item?.intent, 'a fold was cut after its intent');
    const metaNow = async () =>
      (
        await store.db.send(
          new GetItemCommand({
            TableName: store.TableName,
            Key: enrolmentMetaKey(t.id),
            ConsistentRead: true,
          }),
        )
      ).Item;
    // While it may still be running, the other requests leave it to its owner (they
    // would repeat each of its writes), and the counts add what it has not applied.
    await register(t, 'v');
    assert.equal((await metaNow())?.intent?.S, meta.Item?.intent?.S, 'the fresh intent is left alone');
    const meanwhile = await countsAgainstListings(t);
    assert.deepEqual([meanwhile.registered, meanwhile.due, meanwhile.overdue], [6, 5, 1]);
    advance(2 * DAY);
    const counts = await countsAgainstListings(t);
    assert.deepEqual([counts.registered, counts.overdue], [6, 6]);
    // A user's own writes succeed; the counts still see every one of them.
    await enrolNow(t, 'p');
    // Stale by now: the fold after that change finished it.
    assert.equal((await metaNow())?.intent, undefined, 'finished');
    await remove(t, 'q', true);
    const after = await countsAgainstListings(t);
    assert.deepEqual([after.registered, after.enrolled, after.overdue], [5, 1, 4]);
  });

  it('a tenant older than the counts is counted on its first report, and stays exact after', async () => {
    const t = await tenantWith(client, operatorKey, 'enrol-older', { issuer: 'Acme' });
    for (const id of ['a', 'b', 'c']) await enrolNow(t, id);
    await client.typed(t.users).users.setup('p');
    // As the previous release left it: no counts, and users that carry nothing of them.
    const counts = await store.db.send(
      new QueryCommand({
        TableName: store.TableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `ENROL#${t.id}` } },
      }),
    );
    assert.ok((counts.Items ?? []).length > 0);
    for (const { pk, sk } of counts.Items ?? []) {
      assert.ok(pk && sk);
      await store.db.send(new DeleteItemCommand({ TableName: store.TableName, Key: { pk, sk } }));
    }
    for (const id of ['a', 'b', 'c', 'p']) {
      await store.db.send(
        new UpdateItemCommand({
          TableName: store.TableName,
          Key: userKey(t.id, id),
          UpdateExpression:
            'REMOVE registeredAt, unenrolledSince, #counted, countedSeq, dirtyToken, directory, directoryId',
          ExpressionAttributeNames: { '#counted': 'counted' },
        }),
      );
    }
    await settings(t, { required: true, graceDays: 3 });
    const first = await countsAgainstListings(t);
    assert.deepEqual([first.registered, first.enrolled, first.unenrolled], [3, 3, 0]);
    // Counted now: a removal moves a user from enrolled to due, and nothing counts twice.
    await remove(t, 'a');
    await register(t, 'd');
    const after = await countsAgainstListings(t);
    assert.deepEqual([after.registered, after.enrolled, after.due], [4, 2, 2]);
    advance(4 * DAY);
    assert.equal((await countsAgainstListings(t)).overdue, 2);
  });
});

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { defaultSettings } from '../../lib/domain/settings.ts';
import {
  type Authenticator,
  type EnrolMode,
  emptyUser,
  type PendingEnrolment,
  type UserRecord,
} from '../../lib/domain/user.ts';
import { ensureTable, localClientConfig } from '../../lib/local/embeddedStore.ts';
import { DynamoTable, dynamoStore } from '../../lib/store/dynamoStore.ts';
import { auditToItem } from '../../lib/store/items.ts';
import type { AuditPosition } from '../../lib/store/port.ts';
import type { TenantRecord } from '../../lib/domain/records.ts';
import { startFaultProxy } from '../support/faultProxy.ts';
import { startTestStore } from '../support/testStore.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// The adapter with the real SDK client against dynalite (or, under npm run
// test:dynamodb-local, Amazon's DynamoDB Local), directly and through a proxy that
// answers failed conditions with the item, as DynamoDB does and dynalite does not.
const embedded = await startTestStore();
after(() => embedded.close());
await ensureTable(localClientConfig(embedded.endpoint), 'tfa-store-test');
const awsLike = await startFaultProxy(embedded.endpoint, { returnItemOnConditionFailure: true });
const store = dynamoStore(
  new DynamoTable(
    new DynamoDBClient(localClientConfig(embedded.endpoint)),
    'tfa-store-test',
    'tfa-store-test-keys',
  ),
);
const awsStore = dynamoStore(
  new DynamoTable(
    new DynamoDBClient(localClientConfig(awsLike.url)),
    'tfa-store-test',
    'tfa-store-test-keys',
  ),
);

const now = 1_800_000_000_000;
const lockout = { maxFailures: 3, lockSeconds: 5 };
/** The guess budget as of `at`: maxFailures 3, a lock of 5 s. */
const at = (nowMs: number) => ({ nowMs, lockout });
const count = { kind: 'count', bindsDisable: true, weight: 1 } as const;
const restart = { kind: 'restart', bindsDisable: true, weight: 1 } as const;
const tenant = (tenantId: string): TenantRecord => ({
  tenantId,
  settings: defaultSettings(tenantId),
  createdAt: now,
  wrappedDataKey: Buffer.alloc(60, 1),
  revision: 0,
});
const pending = (id: string, mode: EnrolMode = { kind: 'first' }): PendingEnrolment => ({
  id,
  label: `label ${id}`,
  mode,
  sealedSecret: Buffer.alloc(49, 2),
  algorithm: 'SHA1',
  digits: 6,
  period: 30,
  issuer: 'Acme',
  accountName: 'bob',
  createdAt: now,
  expiresAt: now + 600_000,
});

/** A user with an active enrolment `a1` and two recovery hashes. */
async function activeUser(userId: string): Promise<UserRecord> {
  const fresh = emptyUser('acme', userId);
  assert.equal((await store.savePending(fresh, pending('a1'), 1)).applied, true);
  const hashes = [Buffer.alloc(16, 3), Buffer.alloc(16, 4)];
  const confirm = { ...at(now), bindsDisable: false };
  assert.equal(
    (
      await store.activate(
        { ...fresh, pending: pending('a1') },
        [activated('a1')],
        hashes,
        100 * 30,
        't0',
        confirm,
      )
    ).applied,
    true,
  );
  return (await store.getUser('acme', userId)) as UserRecord;
}

/** The pending enrolment `id`, confirmed. */
function activated(id: string, confirmedAt = now): Authenticator {
  const { expiresAt: _, mode: __, ...enrolment } = pending(id);
  return { ...enrolment, confirmedAt };
}

const only = (user: UserRecord) => user.authenticators[0] as Authenticator;

describe('the DynamoDB store against dynalite', () => {
  it('creates a tenant once, and reads it back with its key and user in one batch', async () => {
    assert.equal(await store.createTenant(tenant('acme')), true);
    assert.equal(await store.createTenant({ ...tenant('acme'), settings: defaultSettings('Other') }), false);
    assert.equal((await store.getTenant('acme'))?.settings.issuer, 'acme');
    await store.putKey({
      tenantId: 'acme',
      id: 'k1',
      name: 'n',
      scopes: ['users'],
      salt: Buffer.alloc(16),
      hash: Buffer.alloc(32),
      createdAt: now,
    });
    await activeUser('batch');
    const context = await store.loadContext({ tenantId: 'acme', keyId: 'k1', userId: 'batch' });
    assert.equal(context.tenant?.tenantId, 'acme');
    assert.deepEqual(context.key?.scopes, ['users']);
    assert.equal(context.user?.authenticators[0]?.id, 'a1');
    const missing = await store.loadContext({ tenantId: 'acme', keyId: 'nope', userId: 'nobody' });
    assert.equal(missing.key, undefined);
    assert.equal(missing.user, undefined);
  });

  it('the data key comes from the key table in the same batch, and is shredded there', async () => {
    await store.createTenant(tenant('keyed'));
    assert.deepEqual(await store.putDataKey('keyed', Buffer.alloc(60, 7)), Buffer.alloc(60, 7));
    // Never over another: a second key for the same tenant is refused, and the first answered.
    assert.deepEqual(Buffer.from(await store.putDataKey('keyed', Buffer.alloc(60, 8))), Buffer.alloc(60, 7));
    const loaded = await store.loadContext({ tenantId: 'keyed' });
    assert.deepEqual(Buffer.from(loaded.tenant?.wrappedDataKey ?? []), Buffer.alloc(60, 7));
    assert.equal(await store.shredTenant('keyed', now, 'test'), true);
    const shredded = await store.loadContext({ tenantId: 'keyed' });
    assert.equal(shredded.tenant?.wrappedDataKey.length, 0, 'no key left');
    assert.equal(shredded.tenant?.deletedAt, now);
    assert.equal(await store.shredTenant('nobody', now, 'test'), false);
  });

  it('a tenant made before the key table: its data key is still read, and shredded', async () => {
    const db = new DynamoDBClient(localClientConfig(embedded.endpoint));
    await db.send(
      new PutItemCommand({
        TableName: 'tfa-store-test',
        Item: {
          pk: { S: 'TENANT#legacy' },
          sk: { S: 'TENANT' },
          settings: { S: JSON.stringify(defaultSettings('legacy')) },
          createdAt: { N: String(now) },
          revision: { N: '0' },
          dataKey: { B: Buffer.alloc(60, 9) },
        },
      }),
    );
    const loaded = await store.loadContext({ tenantId: 'legacy' });
    assert.deepEqual(Buffer.from(loaded.tenant?.wrappedDataKey ?? []), Buffer.alloc(60, 9));
    await store.shredTenant('legacy', now, 'test');
    assert.equal((await store.loadContext({ tenantId: 'legacy' })).tenant?.wrappedDataKey.length, 0);
  });

  it('settings: an optimistic write loses to a concurrent change', async () => {
    await store.createTenant(tenant('optimist'));
    const read = (await store.getTenant('optimist')) as TenantRecord;
    assert.equal(await store.saveSettings(read, { ...read.settings, policy: 'disabled' }), true);
    assert.equal(await store.saveSettings(read, { ...read.settings, issuer: 'stale' }), false);
    const after = await store.getTenant('optimist');
    assert.equal(after?.settings.policy, 'disabled');
    assert.equal(after?.revision, 1);
  });

  it('keys: listed per tenant, deleted once', async () => {
    await store.putKey({
      tenantId: 'acme',
      id: 'k2',
      name: 'n',
      scopes: ['admin'],
      salt: Buffer.alloc(16),
      hash: Buffer.alloc(32),
      createdAt: now,
    });
    assert.deepEqual((await store.listKeys('acme')).map((k) => k.id).sort(), ['k1', 'k2']);
    assert.deepEqual(await store.listKeys('optimist'), []);
    assert.deepEqual((await store.deleteKey('acme', 'k2'))?.scopes, ['admin'], 'answers what it deleted');
    assert.equal(await store.deleteKey('acme', 'k2'), undefined);
  });

  it('acceptStep: only a later step, only for an authenticator still there, not while locked', async () => {
    const user = await activeUser('stepper');
    const a1 = only(user);
    assert.equal(user.lastStepStart, 100 * 30, 'confirm stored its step');
    assert.equal((await store.acceptStep(user, a1, 100 * 30, 'x', at(now))).applied, false);
    assert.equal((await store.acceptStep(user, a1, 99 * 30, 'x', at(now))).applied, false);
    assert.equal(
      (await store.acceptStep(user, { ...a1, id: 'other' }, 101 * 30, 'x', at(now))).applied,
      false,
    );
    assert.equal((await store.acceptStep(user, a1, 101 * 30, 'tok', at(now))).applied, true);
    const after = (await store.getUser('acme', 'stepper')) as UserRecord;
    assert.equal(after.lastStepStart, 101 * 30);
    assert.equal(only(after).lastUsedAt, now, 'the authenticator that matched was used now');
    assert.equal(after.lastStepToken, 'tok');
    assert.equal(after.lastVerifiedAt, now);
    for (let i = 0; i < 3; i++) await store.recordFailure(after, count, `lock-${i}`, at(now));
    assert.equal((await store.acceptStep(after, a1, 102 * 30, 'x', at(now + 4999))).applied, false, 'locked');
    assert.equal(
      (await store.acceptStep(after, a1, 102 * 30, 'x', at(now + 5000))).applied,
      true,
      'lock over',
    );
    const reset = (await store.getUser('acme', 'stepper')) as UserRecord;
    assert.deepEqual([reset.lockFailures, reset.consecutiveFailures], [0, 0], 'a valid code resets both');
  });

  it('recordFailure: the failure that reaches maxFailures is the lock, in the same write', async () => {
    const user = await activeUser('failing');
    const counted = [];
    for (let i = 0; i < 3; i++) counted.push(await store.recordFailure(user, count, `t-${i}`, at(now + i)));
    assert.deepEqual(
      counted.map((r) => r.applied && [r.counts.lockFailures, r.counts.consecutiveFailures]),
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      'each write answers the counts it left',
    );
    assert.equal(
      (await store.recordFailure(user, count, 't-3', at(now + 3))).applied,
      false,
      'a fourth is refused: the third locked',
    );
    assert.equal(
      (await store.recordFailure(user, restart, 't-4', at(now + 3))).applied,
      false,
      'still locked',
    );
    const locked = (await store.getUser('acme', 'failing')) as UserRecord;
    assert.deepEqual(
      [locked.lockFailures, locked.consecutiveFailures, locked.lastFailureAt],
      [3, 3, now + 2],
      'attempts while locked change nothing: the lock does not grow',
    );
    // After the lock (5 s from the last counted failure), a count restarts at 1, once.
    assert.equal((await store.recordFailure(locked, count, 't-5', at(now + 5002))).applied, false);
    const restarted = await store.recordFailure(locked, restart, 't-6', at(now + 5002));
    assert.deepEqual(restarted.applied && restarted.counts.lockFailures, 1);
    assert.equal(
      (await store.recordFailure(locked, restart, 't-7', at(now + 5002))).applied,
      false,
      'only one failure restarts the count',
    );
    const after = (await store.getUser('acme', 'failing')) as UserRecord;
    assert.deepEqual([after.lockFailures, after.consecutiveFailures], [1, 4]);
    assert.equal(await store.unlock(after), true);
    const unlocked = (await store.getUser('acme', 'failing')) as UserRecord;
    assert.deepEqual([unlocked.lockFailures, unlocked.consecutiveFailures], [0, 4]);
  });

  it('recordFailure: at verify none is counted past the disable; at confirm the disable does not bind', async () => {
    const user = await activeUser('disabling');
    await store.unlock(user);
    const wide = { nowMs: now, lockout: { maxFailures: 100, lockSeconds: 1 } };
    for (let i = 0; i < 100; i++) {
      assert.equal((await store.recordFailure(user, count, `d-${i}`, wide)).applied, true);
    }
    const afterLock = { nowMs: now + 2000, lockout: wide.lockout };
    assert.equal((await store.recordFailure(user, restart, 'd-100', afterLock)).applied, false, 'disabled');
    assert.equal(
      (await store.acceptStep(user, only(user), 200 * 30, 'x', afterLock)).applied,
      false,
      'disabled',
    );
    const atConfirm = { kind: 'restart', bindsDisable: false, weight: 1 } as const;
    assert.equal((await store.recordFailure(user, atConfirm, 'd-101', afterLock)).applied, true);
    const seen = (await store.getUser('acme', 'disabling')) as UserRecord;
    assert.equal(seen.consecutiveFailures, 101);
  });

  it('activate: never while locked, and it lifts the disable', async () => {
    const user = await activeUser('reconf');
    for (let i = 0; i < 3; i++) await store.recordFailure(user, count, `r-${i}`, at(now));
    await store.savePending(user, pending('a2', { kind: 'reconfigure' }), null);
    const reading = { ...user, pending: pending('a2', { kind: 'reconfigure' }) };
    const next = [activated('a2')];
    const reconfigure = (nowMs: number) => ({ ...at(nowMs), bindsDisable: false });
    assert.equal(
      (await store.activate(reading, next, [Buffer.alloc(16, 9)], 200 * 30, 'z', reconfigure(now + 1)))
        .applied,
      false,
      'locked',
    );
    const stillLocked = (await store.getUser('acme', 'reconf')) as UserRecord;
    assert.equal(stillLocked.lockFailures, 3, 'the refused activation left the lock');
    assert.equal(only(stillLocked).id, 'a1');
    assert.equal(
      (await store.activate(reading, next, [Buffer.alloc(16, 9)], 200 * 30, 'z', reconfigure(now + 5000)))
        .applied,
      true,
    );
    const active = (await store.getUser('acme', 'reconf')) as UserRecord;
    assert.deepEqual(
      [active.authenticators.map((a) => a.id), active.lockFailures, active.consecutiveFailures],
      [['a2'], 0, 0],
    );
  });

  it('recordFailure: a write retried with its own token does not count twice', async () => {
    const user = await activeUser('retried');
    assert.equal((await store.recordFailure(user, count, 'same', at(now))).applied, true);
    assert.equal((await store.recordFailure(user, count, 'same', at(now))).applied, false);
    const after = (await store.getUser('acme', 'retried')) as UserRecord;
    assert.deepEqual([after.lockFailures, after.lastFailureToken], [1, 'same']);
  });

  it('recordFailure never creates a user that is not there', async () => {
    const ghost = emptyUser('acme', 'ghost');
    assert.equal((await store.recordFailure(ghost, count, `t-${Math.random()}`, at(now))).applied, false);
    assert.equal(await store.getUser('acme', 'ghost'), undefined);
  });

  it('spendRecoveryCode: once per code', async () => {
    const user = await activeUser('spender');
    const hash = Buffer.alloc(16, 3);
    assert.equal((await store.spendRecoveryCode(user, hash, 'r1', at(now))).applied, true);
    assert.equal((await store.spendRecoveryCode(user, hash, 'r2', at(now))).applied, false);
    const after = (await store.getUser('acme', 'spender')) as UserRecord;
    assert.equal(after.recoveryHashes.length, 1);
    assert.equal(after.lastRecoveryToken, 'r1');
    assert.deepEqual(
      Buffer.from(after.lastRecoveryHash ?? []),
      hash,
      'the code spent last is known, to tell a replay',
    );
    for (let i = 0; i < 3; i++) await store.recordFailure(after, count, `s-${i}`, at(now));
    const other = Buffer.alloc(16, 4);
    assert.equal((await store.spendRecoveryCode(after, other, 'r3', at(now))).applied, false, 'locked');
  });

  it('a failed condition carries the current item when the store sends it (AWS), and not with dynalite', async () => {
    const user = await activeUser('explained');
    const direct = await store.acceptStep(user, only(user), 100 * 30, 'x', at(now));
    assert.equal(direct.applied, false);
    if (embedded.kind === 'dynalite') {
      assert.equal(direct.applied === false && direct.current, undefined, 'dynalite sends no item');
    } else {
      // Amazon's implementation sends it itself: the path the proxy imitates for dynalite.
      assert.equal(
        direct.applied === false && direct.current?.lastStepStart,
        100 * 30,
        'DynamoDB Local sends the item',
      );
    }
    const aws = await awsStore.acceptStep(user, only(user), 100 * 30, 'x', at(now));
    assert.equal(aws.applied, false);
    assert.equal(
      aws.applied === false && aws.current?.lastStepStart,
      100 * 30,
      'the item explains the failure',
    );
    assert.equal(awsLike.itemsReturned(), embedded.kind === 'dynalite' ? 1 : 0);
  });

  it('lists enrolled users by tenant in user-id order, keys only from the index', async () => {
    for (const id of ['l3', 'l1', 'l2']) {
      await store.savePending({ ...emptyUser('lister', id) }, pending(`p-${id}`), 1);
    }
    await store.savePending(emptyUser('other-tenant', 'l0'), pending('p'), 1);
    const first = await store.listUsers('lister', undefined, 2);
    assert.deepEqual(
      first.users.map((u) => u.userId),
      ['l1', 'l2'],
    );
    assert.equal(first.lastUserId, 'l2');
    const second = await store.listUsers('lister', first.lastUserId, 2);
    assert.deepEqual(
      second.users.map((u) => u.userId),
      ['l3'],
    );
    assert.equal(second.more, false);
  });

  it('lists more users than one BatchGetItem may ask for (100)', async () => {
    for (let i = 0; i < 105; i++) {
      await store.savePending(emptyUser('crowd', `c${String(i).padStart(3, '0')}`), pending(`p${i}`), 1);
    }
    const page = await store.listUsers('crowd', undefined, 101);
    assert.equal(page.users.length, 101);
    assert.equal(page.users[100]?.userId, 'c100');
  });

  it('the authenticators change only while they are as read, and no code was accepted since', async () => {
    const user = await activeUser('setwise');
    const second = activated('a2', now + 1);
    assert.equal((await store.replaceAuthenticators(user, [only(user), second])).applied, true);
    assert.equal(
      (await store.replaceAuthenticators(user, [only(user)])).applied,
      false,
      'a write judged on the old set is refused',
    );
    const two = (await store.getUser('acme', 'setwise')) as UserRecord;
    assert.deepEqual(
      two.authenticators.map((a) => a.id),
      ['a1', 'a2'],
    );
    assert.notEqual(two.authenticatorsVersion, user.authenticatorsVersion);
    assert.equal((await store.acceptStep(two, second, 101 * 30, 'v', at(now))).applied, true);
    assert.equal(
      (await store.replaceAuthenticators(two, [{ ...only(two), label: 'renamed' }, second])).applied,
      false,
      'a code accepted since: the map would lose its lastUsedAt',
    );
    const used = (await store.getUser('acme', 'setwise')) as UserRecord;
    assert.equal(used.authenticators[1]?.lastUsedAt, now);
    assert.equal((await store.retireUser(user, true, now)).applied, false, 'not as read');
    assert.equal((await store.retireUser(used, true, now)).applied, true);
    const gone = await store.getUser('acme', 'setwise');
    assert.deepEqual([gone?.authenticators, gone?.registration], [[], undefined]);
  });

  it('a failure weighs the authenticators checked, and carries the clock-skew hint', async () => {
    const user = await activeUser('weighed');
    const two = { kind: 'count', bindsDisable: true, weight: 2 } as const;
    const first = await store.recordFailure(user, two, 'w1', at(now), { steps: 4, at: now });
    assert.deepEqual(first.applied && [first.counts.lockFailures, first.counts.consecutiveFailures], [2, 2]);
    const after = (await store.getUser('acme', 'weighed')) as UserRecord;
    assert.deepEqual(after.clockSkew, { steps: 4, at: now });
    const second = await store.recordFailure(after, two, 'w2', at(now));
    assert.equal(second.applied && second.counts.lockFailures, 4, 'past maxFailures 3: locked');
    assert.equal((await store.recordFailure(after, two, 'w3', at(now))).applied, false);
  });

  it("an item of the first release's shape: read as one authenticator, rewritten by an accepting write", async () => {
    const db = new DynamoDBClient(localClientConfig(embedded.endpoint));
    await db.send(
      new PutItemCommand({
        TableName: 'tfa-store-test',
        Item: {
          pk: { S: 'USER#acme#legacy' },
          sk: { S: 'USER' },
          active: {
            M: {
              id: { S: 'l1' },
              secret: { B: Buffer.alloc(49, 2) },
              algorithm: { S: 'SHA1' },
              digits: { N: '6' },
              period: { N: '30' },
              issuer: { S: 'Acme' },
              accountName: { S: 'legacy' },
              createdAt: { N: String(now) },
              confirmedAt: { N: String(now) },
            },
          },
          recovery: { BS: [Buffer.alloc(16, 3)] },
          lastStep: { N: '100' },
          lastStepToken: { S: 'old' },
          failedAttempts: { N: '0' },
          consecutiveFailures: { N: '0' },
        },
      }),
    );
    const legacy = (await store.getUser('acme', 'legacy')) as UserRecord;
    assert.deepEqual(
      [legacy.authenticators.map((a) => [a.id, a.label]), legacy.lastStepStart, legacy.authenticatorsVersion],
      [[['l1', 'Authenticator 1']], 100 * 30, undefined],
    );
    assert.equal(
      (await store.acceptStep(legacy, only(legacy), 100 * 30, 'x', at(now))).applied,
      false,
      'replay',
    );
    assert.equal((await store.acceptStep(legacy, only(legacy), 101 * 30, 'y', at(now))).applied, true);
    const today = (await store.getUser('acme', 'legacy')) as UserRecord;
    assert.ok(today.authenticatorsVersion, "today's shape");
    assert.deepEqual(
      [today.lastStepStart, only(today).lastUsedAt, today.lastStepToken],
      [101 * 30, now, 'y'],
    );
    assert.equal(
      (await store.acceptStep(legacy, only(legacy), 102 * 30, 'z', at(now))).applied,
      false,
      'a write judged on the old shape is refused once it is rewritten',
    );
  });

  it('retireUser keeps a registered user registered and unenrolled; forget leaves nothing once counted', async () => {
    const user = await activeUser('removed');
    assert.ok(user.registration, 'the activation registered the user');
    assert.equal((await store.retireUser(user, false, now + 1500)).applied, true);
    const kept = (await store.getUser('acme', 'removed')) as UserRecord;
    assert.deepEqual(kept.authenticators, []);
    assert.equal(kept.pending, undefined);
    assert.deepEqual(kept.recoveryHashes, []);
    assert.equal(kept.registration?.registeredAt, user.registration?.registeredAt);
    assert.equal(kept.registration?.unenrolledSince, Math.ceil((now + 1500) / 1000));
    assert.equal((await store.retireUser(kept, true, now)).applied, true);
    while ((await store.foldCounts('acme', now)).more);
    assert.equal(await store.getUser('acme', 'removed'), undefined, 'counted out, then deleted');
  });

  it('retireUser with an event, of a user never counted: an empty expiring item holds the event; the fold keeps an item whose events wait', async () => {
    const user = await activeUser('forgotten');
    const event = (id: string, userId: string) => ({
      id,
      type: 'tfa.user.removed' as const,
      at: now,
      data: { tenantId: 'acme', userId },
    });
    // Counted (the activation registered it): the counting path keeps the item, with the event.
    assert.equal((await store.retireUser(user, true, now, [event('e1', 'forgotten')])).applied, true);
    while ((await store.foldCounts('acme', now)).more);
    const ref = store.userRef('acme', 'forgotten');
    assert.deepEqual(await store.readOutbox(ref), [event('e1', 'forgotten')], 'not deleted under its event');
    assert.equal(await store.clearOutbox(ref, 1), true);
    // Never counted (only a pending setup): the item is replaced by one holding the event.
    const fresh = emptyUser('acme', 'passing');
    assert.equal((await store.savePending(fresh, pending('p1'), 1)).applied, true);
    const read = (await store.getUser('acme', 'passing')) as UserRecord;
    assert.equal((await store.retireUser(read, true, now, [event('e2', 'passing')])).applied, true);
    const left = (await store.getUser('acme', 'passing')) as UserRecord;
    assert.deepEqual([left.authenticators, left.pending, left.registration], [[], undefined, undefined]);
    assert.deepEqual(await store.readOutbox(store.userRef('acme', 'passing')), [event('e2', 'passing')]);
    const raw = await new DynamoDBClient(localClientConfig(embedded.endpoint)).send(
      new ScanCommand({ TableName: 'tfa-store-test' }),
    );
    const item = raw.Items?.find((i) => i.pk?.S === 'USER#acme#passing');
    assert.ok(Number(item?.expiresAt?.N) > now / 1000, 'it expires');
  });

  it('reportOnce: each lock once, by the failure time that set it, never an older one after a newer; a replay once per step', async () => {
    const user = await activeUser('reported');
    const event = {
      id: 'l1',
      type: 'tfa.user.locked' as const,
      at: now,
      data: { tenantId: 'acme', userId: 'reported' },
    };
    assert.equal(await store.reportOnce(user, 'lock', now, [event]), true);
    assert.equal(await store.reportOnce(user, 'lock', now, [event]), false, 'that lock was reported');
    assert.equal(await store.reportOnce(user, 'lock', now - 1, [event]), false, 'an older one');
    assert.equal(await store.reportOnce(user, 'disable', now, [event]), true, 'the disable is its own');
    assert.equal(await store.reportOnce(user, 'lock', now + 9000, [event]), true, 'the next lock');
    const seen = (await store.getUser('acme', 'reported')) as UserRecord;
    assert.deepEqual([seen.lockReportedAt, seen.disableReportedAt], [now + 9000, now]);
    assert.equal((await store.readOutbox(store.userRef('acme', 'reported'))).length, 3);
    assert.equal(await store.reportOnce(user, 'replay', 3000, [event]), true);
    assert.equal(await store.reportOnce(user, 'replay', 3000, [event]), false);
    assert.equal(await store.reportOnce(user, 'replay', 2970, [event]), false, 'an earlier step');
    assert.equal((await store.getUser('acme', 'reported'))?.replayedStep, 3000);
    assert.equal(await store.reportOnce(emptyUser('acme', 'ghost-2'), 'lock', now, [event]), false);
    assert.equal(await store.getUser('acme', 'ghost-2'), undefined, 'no item made');
  });

  it('a key deleted with an event no longer exists for any reader; its item holds only the event', async () => {
    const key = {
      tenantId: 'acme',
      id: 'k9',
      name: 'helpdesk',
      scopes: ['support' as const],
      salt: Buffer.alloc(16),
      hash: Buffer.alloc(32, 1),
      createdAt: now,
    };
    const event = {
      id: 'k',
      type: 'tfa.key.deleted' as const,
      at: now,
      data: { tenantId: 'acme', userId: null },
    };
    await store.putKey(key, [event]);
    assert.deepEqual(await store.readOutbox(store.keyRef('acme', 'k9')), [event], 'created with its event');
    assert.equal((await store.getKey('acme', 'k9'))?.name, 'helpdesk');
    assert.equal((await store.deleteKey('acme', 'k9', [event]))?.name, 'helpdesk');
    assert.equal(await store.getKey('acme', 'k9'), undefined);
    assert.equal((await store.loadContext({ tenantId: 'acme', keyId: 'k9' })).key, undefined);
    assert.ok(!(await store.listKeys('acme')).some((k) => k.id === 'k9'));
    assert.equal(await store.deleteKey('acme', 'k9', [event]), undefined, 'once');
    assert.equal((await store.readOutbox(store.keyRef('acme', 'k9'))).length, 2);
  });

  it('tenant-wide audit pages merge the 16 shards: newest first, every event exactly once, at any page size', async () => {
    const db = new DynamoDBClient(localClientConfig(embedded.endpoint));
    const base = 1_800_000_000_000;
    const written: string[] = [];
    for (let i = 0; i < 240; i++) {
      // Many events in the same millisecond: the key's random part orders them.
      const event = {
        tenantId: 'sharded',
        at: base + Math.floor(i / 7),
        action: 'verify' as const,
        ...(i % 5 === 0 ? {} : { userId: `u${i % 11}` }),
        actor: { keyId: 'k', name: 'panel' },
        outcome: 'success',
        requestId: `r${i}`,
      };
      await store.putAuditEvent(event, 2_000_000_000);
      written.push(`r${i}`);
    }
    // An event of an earlier version, in the index under the tenant id alone; and another tenant's.
    await db.send(
      new PutItemCommand({
        TableName: 'tfa-store-test',
        Item: {
          ...auditToItem(
            {
              tenantId: 'sharded',
              at: base + 3,
              action: 'settings',
              actor: { keyId: 'k', name: 'a' },
              outcome: 'success',
              requestId: 'legacy',
            },
            2_000_000_000,
          ),
          auditTenant: { S: 'sharded' },
        },
      }),
    );
    await store.putAuditEvent(
      {
        tenantId: 'sharded-not',
        at: base,
        action: 'verify',
        actor: { keyId: 'k', name: 'p' },
        outcome: 'success',
        requestId: 'other',
      },
      2_000_000_000,
    );
    written.push('legacy');

    // Every event as the table holds it, newest first by its key.
    const scanned = await db.send(new ScanCommand({ TableName: 'tfa-store-test', ConsistentRead: true }));
    const all = (scanned.Items ?? []).filter((item) => item.auditTenant?.S?.split('#')[0] === 'sharded');
    assert.ok(new Set(all.map((item) => item.auditTenant?.S)).size >= 12, 'spread over the shards');
    const expected = all
      .sort((a, b) => ((a.auditAt?.S ?? '') < (b.auditAt?.S ?? '') ? 1 : -1))
      .map((item) => item.requestId?.S);
    assert.deepEqual([...expected].sort(), [...written].sort());

    for (const limit of [1, 7, 50, 100]) {
      const seen: string[] = [];
      let after: AuditPosition | undefined;
      let pages = 0;
      do {
        const page = await store.listAuditEvents('sharded', undefined, after, limit);
        assert.ok(page.events.length <= limit);
        seen.push(...page.events.map((e) => e.requestId));
        after = page.next;
        assert.ok(++pages < 400);
      } while (after);
      assert.deepEqual(seen, expected, `limit ${limit}: newest first, each once`);
    }
    db.destroy();
  });
});

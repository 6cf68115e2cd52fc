import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { defaultSettings } from '../../lib/domain/settings.ts';
import { emptyUser, type PendingEnrolment, type UserRecord } from '../../lib/domain/user.ts';
import { ensureTable, localClientConfig, startEmbeddedStore } from '../../lib/local/embeddedStore.ts';
import { DynamoStore } from '../../lib/store/dynamoStore.ts';
import type { TenantRecord } from '../../lib/store/records.ts';
import { startFaultProxy } from '../support/faultProxy.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// The adapter with the real SDK client against dynalite, directly and through a proxy
// that answers failed conditions with the item, as DynamoDB does and dynalite does not.
const embedded = await startEmbeddedStore(undefined);
after(() => embedded.close());
await ensureTable(embedded.endpoint, 'tfa-store-test');
const awsLike = await startFaultProxy(embedded.endpoint, { returnItemOnConditionFailure: true });
const store = new DynamoStore(new DynamoDBClient(localClientConfig(embedded.endpoint)), 'tfa-store-test');
const awsStore = new DynamoStore(new DynamoDBClient(localClientConfig(awsLike.url)), 'tfa-store-test');

const now = 1_800_000_000_000;
const tenant = (tenantId: string): TenantRecord => ({
  tenantId,
  settings: defaultSettings(tenantId),
  createdAt: now,
  wrappedDataKey: Buffer.alloc(60, 1),
  revision: 0,
});
const pending = (id: string): PendingEnrolment => ({
  id,
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
  assert.equal((await store.savePending(fresh, pending('a1'), null, 1)).applied, true);
  const { expiresAt: _, ...enrolment } = pending('a1');
  const hashes = [Buffer.alloc(16, 3), Buffer.alloc(16, 4)];
  assert.equal(
    (await store.activate(fresh, { ...enrolment, confirmedAt: now }, hashes, 100, 't0')).applied,
    true,
  );
  return (await store.getUser('acme', userId)) as UserRecord;
}

describe('DynamoStore against dynalite', () => {
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
    assert.equal(context.user?.active?.id, 'a1');
    const missing = await store.loadContext({ tenantId: 'acme', keyId: 'nope', userId: 'nobody' });
    assert.equal(missing.key, undefined);
    assert.equal(missing.user, undefined);
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
    assert.equal(await store.deleteKey('acme', 'k2'), true);
    assert.equal(await store.deleteKey('acme', 'k2'), false);
  });

  it('acceptStep: only a later step, only for the same enrolment, not while locked', async () => {
    const user = await activeUser('stepper');
    assert.equal(user.lastUsedStep, 100, 'confirm stored its step');
    assert.equal((await store.acceptStep(user, 'a1', 100, 'x', now)).applied, false);
    assert.equal((await store.acceptStep(user, 'a1', 99, 'x', now)).applied, false);
    assert.equal((await store.acceptStep(user, 'other', 101, 'x', now)).applied, false);
    assert.equal((await store.acceptStep(user, 'a1', 101, 'tok', now)).applied, true);
    const after = await store.getUser('acme', 'stepper');
    assert.equal(after?.lastUsedStep, 101);
    assert.equal(after?.lastStepToken, 'tok');
    assert.equal(after?.lastVerifiedAt, now);
    await store.recordFailure(
      after as UserRecord,
      {
        kind: 'threshold',
        expectFailed: 0,
        expectConsecutive: 0,
        failedAttempts: 0,
        lockedUntil: now + 1000,
        disable: false,
      },
      'lock-1',
      now,
    );
    assert.equal((await store.acceptStep(after as UserRecord, 'a1', 102, 'x', now)).applied, false, 'locked');
    assert.equal(
      (await store.acceptStep(after as UserRecord, 'a1', 102, 'x', now + 1000)).applied,
      true,
      'lock over',
    );
  });

  it('recordFailure: increments stop below the threshold; the threshold is a compare-and-set', async () => {
    const user = await activeUser('failing');
    const count = { kind: 'count', failedBelow: 2, consecutiveBelow: 99 } as const;
    assert.equal((await store.recordFailure(user, count, `t-${Math.random()}`, now)).applied, true);
    assert.equal((await store.recordFailure(user, count, `t-${Math.random()}`, now)).applied, true);
    assert.equal(
      (await store.recordFailure(user, count, `t-${Math.random()}`, now)).applied,
      false,
      'a third would reach the lock',
    );
    const seen = (await store.getUser('acme', 'failing')) as UserRecord;
    assert.equal(seen.failedAttempts, 2);
    const lock = {
      kind: 'threshold',
      expectFailed: 2,
      expectConsecutive: 2,
      failedAttempts: 0,
      lockedUntil: now + 5000,
      disable: false,
    } as const;
    assert.equal((await store.recordFailure(seen, lock, `t-${Math.random()}`, now)).applied, true);
    assert.equal(
      (await store.recordFailure(seen, lock, `t-${Math.random()}`, now)).applied,
      false,
      'only one request sets the lock',
    );
    const locked = (await store.getUser('acme', 'failing')) as UserRecord;
    assert.deepEqual(
      [locked.failedAttempts, locked.consecutiveFailures, locked.lockedUntil],
      [0, 3, now + 5000],
    );
    assert.equal(await store.unlock(locked), true);
    const unlocked = (await store.getUser('acme', 'failing')) as UserRecord;
    assert.deepEqual(
      [unlocked.failedAttempts, unlocked.consecutiveFailures, unlocked.lockedUntil],
      [0, 3, undefined],
    );
  });

  it('recordFailure: a write retried with its own token does not count twice', async () => {
    const user = await activeUser('retried');
    const count = { kind: 'count', failedBelow: 4, consecutiveBelow: 99 } as const;
    assert.equal((await store.recordFailure(user, count, 'same', now)).applied, true);
    assert.equal((await store.recordFailure(user, count, 'same', now)).applied, false);
    const after = (await store.getUser('acme', 'retried')) as UserRecord;
    assert.deepEqual([after.failedAttempts, after.lastFailureToken], [1, 'same']);
  });

  it('recordFailure never creates a user that is not there', async () => {
    const ghost = emptyUser('acme', 'ghost');
    assert.equal(
      (
        await store.recordFailure(
          ghost,
          { kind: 'count', failedBelow: 4, consecutiveBelow: 99 },
          `t-${Math.random()}`,
          now,
        )
      ).applied,
      false,
    );
    assert.equal(await store.getUser('acme', 'ghost'), undefined);
  });

  it('spendRecoveryCode: once per code', async () => {
    const user = await activeUser('spender');
    const hash = Buffer.alloc(16, 3);
    assert.equal((await store.spendRecoveryCode(user, 'a1', hash, 'r1', now)).applied, true);
    assert.equal((await store.spendRecoveryCode(user, 'a1', hash, 'r2', now)).applied, false);
    const after = (await store.getUser('acme', 'spender')) as UserRecord;
    assert.equal(after.recoveryHashes.length, 1);
    assert.equal(after.lastRecoveryToken, 'r1');
  });

  it('a failed condition carries the current item when the store sends it (AWS), and not with dynalite', async () => {
    const user = await activeUser('explained');
    const local = await store.acceptStep(user, 'a1', 100, 'x', now);
    assert.equal(local.applied, false);
    assert.equal(local.applied === false && local.current, undefined, 'dynalite sends no item');
    const aws = await awsStore.acceptStep(user, 'a1', 100, 'x', now);
    assert.equal(aws.applied, false);
    assert.equal(aws.applied === false && aws.current?.lastUsedStep, 100, 'the item explains the failure');
    assert.equal(awsLike.itemsReturned(), 1);
  });

  it('lists enrolled users by tenant in user-id order, keys only from the index', async () => {
    for (const id of ['l3', 'l1', 'l2']) {
      await store.savePending({ ...emptyUser('lister', id) }, pending(`p-${id}`), null, 1);
    }
    await store.savePending(emptyUser('other-tenant', 'l0'), pending('p'), null, 1);
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
      await store.savePending(
        emptyUser('crowd', `c${String(i).padStart(3, '0')}`),
        pending(`p${i}`),
        null,
        1,
      );
    }
    const page = await store.listUsers('crowd', undefined, 101);
    assert.equal(page.users.length, 101);
    assert.equal(page.users[100]?.userId, 'c100');
  });

  it('removeUser returns what was there, and then nothing', async () => {
    await activeUser('removed');
    assert.equal((await store.removeUser('acme', 'removed'))?.active?.id, 'a1');
    assert.equal(await store.removeUser('acme', 'removed'), undefined);
  });
});

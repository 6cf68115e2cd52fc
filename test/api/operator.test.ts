import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localPurgeQueue } from '../../lib/queue/localQueue.ts';
import { codeFor } from '../support/otp.ts';
import { type Reply, startSecondServer, startTestService } from '../support/service.ts';
import { rawStore } from '../support/store.ts';
import { assertError, enrol, assertAccepted } from '../support/users.ts';

/** The operator running the service for many tenants: listing, the way back in, offboarding. */
const service = await startTestService();
const { client, operatorKey, storeProxy } = service;
const store = rawStore(service.storeEndpoint);
const second = await startSecondServer(service);

const asOperator = (method: string, path: string, body?: unknown) =>
  client.call(method, path, { key: operatorKey, ...(body === undefined ? {} : { body }) });

async function allTenants(limit: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 50; page++) {
    const query: string = `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const reply: Reply = await asOperator('GET', `/v1/tenants${query}`);
    assert.equal(reply.status, 200, reply.text);
    for (const tenant of reply.body.tenants) {
      assert.deepEqual(Object.keys(tenant).sort(), ['createdAt', 'issuer', 'policy', 'tenantId']);
    }
    seen.push(...reply.body.tenants.map((t: { tenantId: string }) => t.tenantId));
    cursor = reply.body.nextCursor;
    if (cursor === null) return seen;
  }
  throw new Error('too many pages');
}

/** Waits until the tenant's purge is done: GET answers 404 once nothing of it is left. */
async function purged(tenantId: string) {
  for (let i = 0; i < 100; i++) {
    const reply = await asOperator('GET', `/v1/tenants/${tenantId}`);
    if (reply.status === 404) return;
    assert.equal(reply.body.deleted, true, 'until the purge is done, the tenant reads as deleted');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${tenantId} was not purged`);
}

async function itemsOf(tenantId: string): Promise<number> {
  const { ScanCommand } = await import('@aws-sdk/client-dynamodb');
  const out = await store.db.send(new ScanCommand({ TableName: store.TableName }));
  return (out.Items ?? []).filter((item) => {
    const text = `${item.pk?.S ?? ''}|${item.auditTenant?.S ?? ''}|${item.listTenant?.S ?? ''}`;
    return new RegExp(`(^|[#|])${tenantId}($|[#|])`).test(text);
  }).length;
}

describe('creating a tenant', () => {
  it('a failed write leaves no tenant without a key, and a retry with the same id works', async () => {
    const put = 'DynamoDB_20120810.PutItem';
    // The bootstrap key's write fails, and so would any clean-up: nothing is made.
    storeProxy.clear();
    storeProxy.add({ target: put, bodyIncludes: '"S":"KEY#', fault: 'throttle', times: 3 });
    storeProxy.add({ target: 'DynamoDB_20120810.DeleteItem', fault: 'reset', times: 3 });
    assertError(await asOperator('POST', '/v1/tenants', { tenantId: 'halfway' }), 503, 'service_unavailable');
    storeProxy.clear();
    assertError(await asOperator('GET', '/v1/tenants/halfway'), 404, 'tenant_not_found');
    // The tenant's own write fails after the key's: the key is taken away again.
    storeProxy.clear();
    storeProxy.add({ target: put, bodyIncludes: '"sk":{"S":"TENANT"}', fault: 'reset', times: 3 });
    assertError(await asOperator('POST', '/v1/tenants', { tenantId: 'halfway' }), 503, 'service_unavailable');
    assert.equal(storeProxy.faulted(), 3);
    storeProxy.clear();
    assertError(await asOperator('GET', '/v1/tenants/halfway'), 404, 'tenant_not_found');
    assert.equal(await itemsOf('halfway'), 0, 'no key is left behind');
    // And the same id, again, simply works.
    const retried = await asOperator('POST', '/v1/tenants', { tenantId: 'halfway' });
    assert.equal(retried.status, 201, retried.text);
    const keys = await client.call('GET', '/v1/keys', { key: retried.body.apiKey.secret });
    assert.deepEqual(
      keys.body.keys.map((k: { name: string }) => k.name),
      ['bootstrap'],
    );
  });
});

describe('listing tenants', () => {
  it('pages through every live tenant exactly once, in tenant-id order, with signed cursors', async () => {
    const ids = ['list-e', 'list-a', 'list-c', 'list-b', 'list-d'];
    for (const id of ids) await client.tenant(operatorKey, id);
    const listed = (await allTenants(2)).filter((id) => id.startsWith('list-'));
    assert.deepEqual(listed, [...ids].sort());
    const first = await asOperator('GET', '/v1/tenants?limit=1');
    const cursor = first.body.nextCursor as string;
    const [payload, mac = ''] = cursor.split('.');
    assertError(
      await asOperator('GET', `/v1/tenants?cursor=${payload}.${mac.slice(1)}A`),
      400,
      'invalid_cursor',
    );
    assertError(await asOperator('GET', '/v1/tenants?limit=0'), 400, 'invalid_request');
    const tenantKey = await client.tenant(operatorKey, 'list-f');
    assertError(await client.call('GET', '/v1/tenants', { key: tenantKey }), 403, 'forbidden');
  });
});

describe("the operator's way back in", () => {
  it('makes a key for a tenant, in its audit trail as made by the operator', async () => {
    const admin = await client.tenant(operatorKey, 'lost-keys');
    const made = await asOperator('POST', '/v1/tenants/lost-keys/keys', {
      name: 'recovery',
      scopes: ['admin'],
    });
    assert.equal(made.status, 201, made.text);
    assert.deepEqual(Object.keys(made.body).sort(), ['createdAt', 'id', 'name', 'scopes', 'secret']);
    const recovered = made.body.secret as string;
    assert.equal(
      (await client.call('GET', '/v1/settings', { key: recovered })).status,
      200,
      'it is an admin',
    );
    const events = (await client.call('GET', '/v1/audit', { key: admin })).body.events;
    const created = events.find((e: { action: string }) => e.action === 'key_create');
    assert.deepEqual(created.actor, { keyId: 'operator', name: 'operator' });
    assert.equal(JSON.parse(created.reason).keyId, made.body.id);
    assertError(
      await asOperator('POST', '/v1/tenants/nobody-here/keys', { name: 'x', scopes: ['admin'] }),
      404,
      'tenant_not_found',
    );
    assertError(
      await asOperator('POST', '/v1/tenants/lost-keys/keys', { name: '', scopes: ['admin'] }),
      400,
      'invalid_request',
    );
  });
});

describe('the last admin key', () => {
  it('cannot be deleted: 409 last_admin_key', async () => {
    const admin = await client.tenant(operatorKey, 'last-one');
    const id = admin.split('.')[2];
    assertError(await client.call('DELETE', `/v1/keys/${id}`, { key: admin }), 409, 'last_admin_key');
    assert.equal((await client.call('GET', '/v1/settings', { key: admin })).status, 200);
    // A key without admin goes as before.
    const users = await client.key(admin, ['users']);
    assert.equal(
      (await client.call('DELETE', `/v1/keys/${users.split('.')[2]}`, { key: admin })).status,
      204,
    );
  });

  it('two admins deleting each other’s keys at once, across two processes, leave one', async () => {
    await client.tenant(operatorKey, 'duel');
    for (let round = 0; round < 8; round++) {
      const made = await Promise.all(
        ['a', 'b'].map((name) => asOperator('POST', '/v1/tenants/duel/keys', { name, scopes: ['admin'] })),
      );
      const [a, b] = made.map((reply) => ({ id: reply.body.id as string, key: reply.body.secret as string }));
      // Every other admin key of the tenant goes first, so that these two are the last.
      const keys = (await client.call('GET', '/v1/keys', { key: a?.key })).body.keys as { id: string }[];
      for (const other of keys.filter((k) => k.id !== a?.id && k.id !== b?.id)) {
        assert.equal((await client.call('DELETE', `/v1/keys/${other.id}`, { key: a?.key })).status, 204);
      }
      const [byA, byB] = await Promise.all([
        client.call('DELETE', `/v1/keys/${b?.id}`, { key: a?.key }),
        second.call('DELETE', `/v1/keys/${a?.id}`, { key: b?.key }),
      ]);
      const statuses = [byA.status, byB.status].sort();
      // One deletion wins; the other meets the guard (409), or finds its own key no longer
      // an admin (403: revoked, not yet deleted) or gone (401).
      assert.ok(statuses[0] === 204 && [401, 403, 409].includes(statuses[1] as number), `${statuses}`);
      const left = [a, b].filter((_, i) => [byB, byA][i]?.status !== 204);
      assert.equal(left.length, 1);
      const survivor = left[0] as { id: string; key: string };
      assert.equal(
        (await client.call('GET', '/v1/settings', { key: survivor.key })).status,
        200,
        'an admin is left',
      );
      const listed = (await client.call('GET', '/v1/keys', { key: survivor.key })).body.keys as {
        scopes: string[];
      }[];
      assert.equal(listed.filter((k) => k.scopes.includes('admin')).length, 1);
    }
  });
});

describe('deleting a tenant', () => {
  it('shreds its data key before the answer, purges its items, and frees its id', async () => {
    const admin = await client.tenant(operatorKey, 'doomed');
    const users = await client.key(admin, ['users']);
    for (const id of ['ann', 'bob', 'cy']) await enrol(client, users, id);
    await client.call('POST', '/v1/users/dee/setup', { key: users });
    const hook = await client.call('POST', '/v1/webhooks', {
      key: admin,
      body: { url: 'https://93.184.216.34/hooks', events: ['*'] },
    });
    assert.equal(hook.status, 201, hook.text);
    assert.ok((await itemsOf('doomed')) > 10);

    // A bystander tenant keeps working throughout.
    const otherAdmin = await client.tenant(operatorKey, 'bystander');
    const otherUsers = await client.key(otherAdmin, ['users']);
    const { setup } = await enrol(client, otherUsers, 'eve');
    const bystanderBefore = await itemsOf('bystander');
    // Bounded, so that a failing assertion below cannot leave it running.
    let stop = false;
    const until = Date.now() + 60_000;
    const traffic = (async () => {
      let answered = 0;
      while (!stop && Date.now() < until) {
        const reply = await client.call('GET', '/v1/users/eve', { key: otherUsers });
        assert.equal(reply.status, 200);
        answered++;
      }
      return answered;
    })();

    const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
    const dataKeyItem = async () =>
      (
        await store.db.send(
          new GetItemCommand({ TableName: `${store.TableName}-keys`, Key: { pk: { S: 'TENANT#doomed' } } }),
        )
      ).Item;
    assert.ok((await dataKeyItem())?.dataKey?.B, 'the data key is in the key table, and only there');
    assertError(await asOperator('DELETE', '/v1/tenants/doomed', {}), 400, 'invalid_request');
    const deleted = await asOperator('DELETE', '/v1/tenants/doomed', { reason: 'contract ended' });
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.body, { tenantId: 'doomed', deleted: true });
    // From the answer on: no key works, and the data key is gone from the table.
    assertError(await client.call('GET', '/v1/users/ann', { key: users }), 401, 'unauthorized');
    assertError(await second.call('GET', '/v1/settings', { key: admin }), 401, 'unauthorized');
    const tenantItem = (
      await store.db.send(
        new GetItemCommand({
          TableName: store.TableName,
          Key: { pk: { S: 'TENANT#doomed' }, sk: { S: 'TENANT' } },
        }),
      )
    ).Item;
    assert.equal(tenantItem?.dataKey, undefined, 'the table holds no data key');
    assert.equal(await dataKeyItem(), undefined, 'crypto-shredded: the only copy of its data key is gone');
    assertError(await asOperator('POST', '/v1/tenants', { tenantId: 'doomed' }), 409, 'tenant_exists');
    // Deleting it again is no error: it finishes a shred that was interrupted, if any.
    assert.deepEqual((await asOperator('DELETE', '/v1/tenants/doomed', { reason: 'again' })).body, {
      tenantId: 'doomed',
      deleted: true,
    });

    await purged('doomed');
    stop = true;
    assertError(
      await asOperator('DELETE', '/v1/tenants/doomed', { reason: 'gone' }),
      404,
      'tenant_not_found',
    );
    assert.ok((await traffic) > 0);
    assert.equal(await itemsOf('doomed'), 0, 'nothing of the tenant is left');
    // Status reads write nothing: the bystander has exactly what it had.
    assert.equal(await itemsOf('bystander'), bystanderBefore, 'the bystander is untouched');
    assertAccepted(
      (
        await client.call('POST', '/v1/users/eve/verify', {
          key: otherUsers,
          body: { code: codeFor(setup, 1) },
        })
      ).body,
    );
    assert.ok(
      service.logs().includes('"message":"tenant deleted"') && service.logs().includes('contract ended'),
    );

    // The id is free again, and the new tenant sees nothing of the old one.
    const reborn = await client.tenant(operatorKey, 'doomed');
    const list = await client.call('GET', '/v1/users', { key: reborn });
    assert.deepEqual(list.body.users, []);
    const audit = await client.call('GET', '/v1/audit', { key: reborn });
    assert.deepEqual(audit.body.events, []);
    assertError(await client.call('GET', '/v1/users/ann', { key: users }), 401, 'unauthorized');
  });

  it('a purge message for a live tenant deletes nothing', async () => {
    const admin = await client.tenant(operatorKey, 'alive');
    const users = await client.key(admin, ['users']);
    await enrol(client, users, 'ann');
    const before = await itemsOf('alive');
    // As if a stale or forged message reached the queue: the purge only acts on a deleted tenant.
    await localPurgeQueue.enqueue({ tenantId: 'alive', settle: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await itemsOf('alive'), before);
    assert.equal((await client.call('GET', '/v1/users/ann', { key: users })).body.enabled, true);
  });

  it('a purge interrupted by the store resumes, and finishes', async () => {
    const admin = await client.tenant(operatorKey, 'interrupted');
    const users = await client.key(admin, ['users']);
    for (let i = 0; i < 30; i++) await client.call('POST', `/v1/users/u${i}/setup`, { key: users });
    storeProxy.clear();
    storeProxy.add({ target: 'DynamoDB_20120810.BatchWriteItem', fault: 'reset', times: 4 });
    const deleted = await asOperator('DELETE', '/v1/tenants/interrupted', { reason: 'test' });
    assert.equal(deleted.status, 200);
    await purged('interrupted');
    assert.ok(storeProxy.faulted() >= 4, 'the purge met the faults');
    assert.equal(await itemsOf('interrupted'), 0);
    storeProxy.clear();
  });
});

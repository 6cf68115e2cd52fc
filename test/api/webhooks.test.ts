import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildDeps } from '../../lib/deps.ts';
import { startDnsServer } from '../support/dnsServer.ts';
import { type Reply, startTestService } from '../support/service.ts';
import { rawStore } from '../support/store.ts';
import { assertError } from '../support/users.ts';

/**
 * The tenant's security-event endpoints, over HTTP against the local service: the
 * secret shown once and stored sealed, the URL rules and the addresses refused (a real
 * DNS server on 127.0.0.1 answers the service's resolver), ten endpoints at most even
 * when a dozen are created at once, changes, rotation, deletion, the audit trail, and
 * one tenant never reaching another's endpoints.
 */

const dns = await startDnsServer({
  'hooks.panel.test': ['93.184.216.34'],
  'inside.panel.test': ['10.1.2.3'],
});
after(() => dns.close());
process.env.TFA_DNS_SERVERS = dns.server;
process.env.TFA_WEBHOOK_ALLOW_LOOPBACK = '1';
const service = await startTestService();
const { client, operatorKey } = service;
const store = rawStore(service.storeEndpoint);

const admin = await client.tenant(operatorKey, 'hooks');
const other = await client.tenant(operatorKey, 'hooks-other');
const create = (body: unknown, key = admin) => client.call('POST', '/v1/webhooks', { key, body });
const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/;
const secretsShown: string[] = [];

describe('webhook endpoints', () => {
  let id: string;

  it('creates one: its secret is shown once, never listed, and stored only sealed', async () => {
    const reply = await create({
      url: 'https://hooks.panel.test/tfa',
      events: ['tfa.user.locked', 'tfa.user.removed', 'tfa.user.locked'],
      description: 'panel',
    });
    assert.equal(reply.status, 201, reply.text);
    assert.deepEqual(Object.keys(reply.body).sort(), [
      'createdAt',
      'description',
      'events',
      'id',
      'secret',
      'status',
      'url',
    ]);
    assert.match(reply.body.secret, SECRET);
    assert.deepEqual(reply.body.events, ['tfa.user.locked', 'tfa.user.removed'], 'a repeat once');
    assert.equal(reply.body.status, 'active');
    id = reply.body.id;
    secretsShown.push(reply.body.secret);

    const listed = await client.call('GET', '/v1/webhooks', { key: admin });
    assert.deepEqual(listed.body.webhooks, [
      {
        id,
        url: 'https://hooks.panel.test/tfa',
        events: ['tfa.user.locked', 'tfa.user.removed'],
        description: 'panel',
        status: 'active',
        createdAt: reply.body.createdAt,
      },
    ]);
    const shown = await client.call('GET', `/v1/webhooks/${id}`, { key: admin });
    assert.deepEqual(shown.body, listed.body.webhooks[0]);
    assert.ok(!(await store.snapshot()).includes(reply.body.secret.slice(6)), 'the store holds no secret');
  });

  it('refuses bad endpoints with a 4xx naming the problem, and stores nothing', async () => {
    const before = (await client.call('GET', '/v1/webhooks', { key: admin })).body.webhooks.length;
    const refusals: [unknown, number, string, RegExp][] = [
      [{ events: ['*'] }, 400, 'invalid_request', /url is required/],
      [{ url: 'https://hooks.panel.test/' }, 400, 'invalid_request', /events is required/],
      [{ url: 'https://hooks.panel.test/', events: [] }, 400, 'invalid_webhook', /non-empty/],
      [
        { url: 'https://hooks.panel.test/', events: ['tfa.user.hacked'] },
        400,
        'invalid_webhook',
        /tfa\.user\.hacked/,
      ],
      [
        { url: 'https://hooks.panel.test/', events: ['*', 'tfa.user.locked'] },
        400,
        'invalid_webhook',
        /event type/,
      ],
      [{ url: 42, events: ['*'] }, 400, 'invalid_request', /url must be a string/],
      [{ url: 'http://hooks.panel.test/', events: ['*'] }, 400, 'invalid_webhook_url', /https/],
      [{ url: 'https://u:p@hooks.panel.test/', events: ['*'] }, 400, 'invalid_webhook_url', /password/],
      [
        { url: `https://hooks.panel.test/${'x'.repeat(2040)}`, events: ['*'] },
        400,
        'invalid_webhook_url',
        /2048/,
      ],
      [{ url: 'https://10.0.0.8/', events: ['*'] }, 400, 'invalid_webhook_url', /private/],
      [
        { url: 'https://169.254.169.254/latest/meta-data', events: ['*'] },
        400,
        'invalid_webhook_url',
        /link-local/,
      ],
      [{ url: 'https://[fd00:ec2::254]/', events: ['*'] }, 400, 'invalid_webhook_url', /unique-local/],
      [{ url: 'https://[::ffff:127.0.0.1]/', events: ['*'] }, 400, 'invalid_webhook_url', /loopback/],
      [
        { url: 'https://inside.panel.test/', events: ['*'] },
        400,
        'invalid_webhook_url',
        /inside\.panel\.test resolves to a private/,
      ],
      [{ url: 'https://nowhere.panel.test/', events: ['*'] }, 400, 'invalid_webhook_url', /does not resolve/],
      [
        { url: 'https://hooks.panel.test/', events: ['*'], description: 'a\u0000b' },
        400,
        'invalid_request',
        /description/,
      ],
    ];
    for (const [body, status, code, says] of refusals) {
      assertError(await create(body), status, code, says);
    }
    const after = (await client.call('GET', '/v1/webhooks', { key: admin })).body.webhooks.length;
    assert.equal(after, before);
  });

  it('local mode takes a loopback receiver only when TFA_WEBHOOK_ALLOW_LOOPBACK is set, and never in AWS', async () => {
    const loopback = await create({ url: 'http://127.0.0.1:9/hooks', events: ['*'] });
    assert.equal(loopback.status, 201, loopback.text);
    secretsShown.push(loopback.body.secret);
    assertError(await create({ url: 'http://10.0.0.1:9/hooks', events: ['*'] }), 400, 'invalid_webhook_url');
    const env: NodeJS.ProcessEnv = { ...process.env, TFA_WEBHOOK_ALLOW_LOOPBACK: '1' };
    delete env.TFA_LOCAL_MODE;
    assert.equal(buildDeps({ env }).outbound.allowLoopback, false, 'Lambda never sets TFA_LOCAL_MODE');
    assert.equal(
      (await client.call('DELETE', `/v1/webhooks/${loopback.body.id}`, { key: admin })).status,
      204,
    );
  });

  it('changes an endpoint whole: pause, events, a URL checked again; a refused change changes nothing', async () => {
    const paused = await client.call('PATCH', `/v1/webhooks/${id}`, {
      key: admin,
      body: { status: 'paused', events: ['*'] },
    });
    assert.equal(paused.status, 200, paused.text);
    assert.deepEqual([paused.body.status, paused.body.events], ['paused', ['*']]);
    assertError(
      await client.call('PATCH', `/v1/webhooks/${id}`, {
        key: admin,
        body: { url: 'https://inside.panel.test/', status: 'active' },
      }),
      400,
      'invalid_webhook_url',
    );
    assertError(
      await client.call('PATCH', `/v1/webhooks/${id}`, { key: admin, body: { status: 'disabled' } }),
      400,
      'invalid_request',
      /active or paused/,
    );
    const shown = await client.call('GET', `/v1/webhooks/${id}`, { key: admin });
    assert.deepEqual([shown.body.status, shown.body.url], ['paused', 'https://hooks.panel.test/tfa']);
    const resumed = await client.call('PATCH', `/v1/webhooks/${id}`, {
      key: admin,
      body: { status: 'active' },
    });
    assert.equal(resumed.body.status, 'active');
  });

  it('rotates the secret: a new one, shown once; the old one kept sealed beside it for the overlap', async () => {
    const rotated = await client.call('POST', `/v1/webhooks/${id}/rotate-secret`, { key: admin });
    assert.equal(rotated.status, 200, rotated.text);
    assert.deepEqual(Object.keys(rotated.body), ['secret']);
    assert.match(rotated.body.secret, SECRET);
    assert.notEqual(rotated.body.secret, secretsShown[0]);
    secretsShown.push(rotated.body.secret);
    const again = await client.call('POST', `/v1/webhooks/${id}/rotate-secret`, { key: admin });
    secretsShown.push(again.body.secret);
    const item = (await store.snapshot())
      .split('\n')
      .find((line) => line.includes(`"webhookId":{"S":"${id}"`));
    assert.ok(item);
    assert.equal(JSON.parse(item).secrets.L.length, 2, 'the newest and the one it replaced; older ones go');
    const snapshot = await store.snapshot();
    for (const secret of secretsShown)
      assert.ok(!snapshot.includes(secret.slice(6)), 'no secret in the store');
  });

  it('at most ten per tenant, even when a dozen are created at once', async () => {
    const existing = (await client.call('GET', '/v1/webhooks', { key: other })).body.webhooks.length;
    assert.equal(existing, 0);
    const replies: Reply[] = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        create({ url: `https://hooks.panel.test/${i}`, events: ['*'] }, other),
      ),
    );
    const statuses = replies.map((r) => r.status).sort();
    assert.deepEqual(statuses, [...Array(10).fill(201), 409, 409], replies.map((r) => r.text).join('\n'));
    for (const reply of replies.filter((r) => r.status === 409)) assertError(reply, 409, 'too_many_webhooks');
    assert.equal((await client.call('GET', '/v1/webhooks', { key: other })).body.webhooks.length, 10);
  });

  it("one tenant never reaches another's endpoints", async () => {
    for (const [method, path, body] of [
      ['GET', `/v1/webhooks/${id}`, undefined],
      ['PATCH', `/v1/webhooks/${id}`, { status: 'paused' }],
      ['POST', `/v1/webhooks/${id}/rotate-secret`, undefined],
      ['DELETE', `/v1/webhooks/${id}`, undefined],
    ] as const) {
      assertError(
        await client.call(method, path, { key: other, ...(body ? { body } : {}) }),
        404,
        'webhook_not_found',
      );
    }
    const mine = (await client.call('GET', '/v1/webhooks', { key: admin })).body.webhooks;
    assert.deepEqual(
      mine.map((w: { id: string; status: string }) => [w.id, w.status]),
      [[id, 'active']],
    );
  });

  it('deletes one: gone from the list, 404 after; every change is in the audit trail without a secret', async () => {
    assert.equal((await client.call('DELETE', `/v1/webhooks/${id}`, { key: admin })).status, 204);
    assertError(await client.call('GET', `/v1/webhooks/${id}`, { key: admin }), 404, 'webhook_not_found');
    assertError(await client.call('DELETE', `/v1/webhooks/${id}`, { key: admin }), 404, 'webhook_not_found');
    const audit = await client.call('GET', '/v1/audit?limit=100', { key: admin });
    const actions = audit.body.events
      .map((e: { action: string }) => e.action)
      .filter((a: string) => a.startsWith('webhook_'));
    assert.deepEqual(actions.reverse(), [
      'webhook_create',
      'webhook_create',
      'webhook_delete',
      'webhook_update',
      'webhook_update',
      'webhook_rotate',
      'webhook_rotate',
      'webhook_delete',
    ]);
    for (const event of audit.body.events) assert.equal(event.userId, null, 'tenant-level events');
    for (const secret of secretsShown) assert.ok(!audit.text.includes(secret.slice(6)));
    const logs = service.logs();
    for (const secret of secretsShown) assert.ok(!logs.includes(secret.slice(6)), 'no secret in a log line');
  });
});

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { mismatch } from '../support/contract.ts';
import { movableClock } from '../support/clock.ts';
import { startReceiver } from '../support/receiver.ts';
import { startTestService } from '../support/service.ts';
import { assertError, enrol } from '../support/users.ts';

/**
 * Deliveries, end to end in local mode: a receiver on 127.0.0.1 (real HTTP) answers as
 * each test tells it, the service's dispatcher runs on its poller (every 200 ms here),
 * and every delivery the receiver gets is verified with the `standardwebhooks` package
 * as a receiver would. Retries keep one `webhook-id`; a `410` disables the endpoint and
 * tells the others; a paused endpoint gets its messages once resumed; a rotation signs
 * with both secrets; redelivery sends the same message again.
 */

process.env.TFA_WEBHOOK_ALLOW_LOOPBACK = '1';
process.env.TFA_WEBHOOK_RETRY_SECONDS = '0.3,0.3,0.3';
process.env.TFA_SCHEDULE_MS = '200';
const service = await startTestService();
const { client, operatorKey, storeProxy } = service;

const receiver = await startReceiver();
after(() => receiver.close());
const { base, received, answers } = receiver;

const admin = await client.tenant(operatorKey, 'deliveries');
const call = (method: string, path: string, body?: unknown) =>
  client.call(method, path, { key: admin, ...(body === undefined ? {} : { body }) });
async function endpoint(path: string, events: string[] = ['*']) {
  const reply = await call('POST', '/v1/webhooks', { url: `${base}${path}`, events });
  assert.equal(reply.status, 201, reply.text);
  return reply.body as { id: string; secret: string };
}
const receivedAt = receiver.until;
async function deliveries(id: string) {
  const reply = await call('GET', `/v1/webhooks/${id}/deliveries`);
  assert.equal(reply.status, 200, reply.text);
  return reply.body.deliveries as {
    messageId: string;
    status: string;
    attempts: number;
    responseStatus: number | null;
  }[];
}
async function settled(id: string, messageId: string, status: string) {
  const until = Date.now() + 15_000;
  for (;;) {
    const found = (await deliveries(id)).find((d) => d.messageId === messageId);
    if (found?.status === status) return found;
    if (Date.now() > until) assert.fail(`${messageId}: ${JSON.stringify(found)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('webhook deliveries', () => {
  it('a test event arrives signed per Standard Webhooks, with the contract’s body, and is listed delivered', async () => {
    // Subscribed to other types: a test goes to the endpoint tested, whatever its events.
    const hook = await endpoint('/first', ['tfa.user.locked']);
    const test = await call('POST', `/v1/webhooks/${hook.id}/test`);
    assert.equal(test.status, 202, test.text);
    assert.match(test.body.messageId, /^msg_[0-9a-z]{9}[0-9a-f]{16}$/);
    const [got] = await receivedAt('/first', 1);
    assert.ok(got);
    assert.equal(got.headers['webhook-id'], test.body.messageId);
    assert.equal(got.headers['content-type'], 'application/json');
    const event = new Webhook(hook.secret).verify(got.body, got.headers) as any;
    assert.equal(event.type, 'tfa.webhook.test');
    assert.deepEqual(Object.keys(event.data).sort(), [
      'actor',
      'at',
      'requestId',
      'tenantId',
      'userId',
      'webhookId',
    ]);
    assert.deepEqual(
      [event.data.tenantId, event.data.userId, event.data.webhookId],
      ['deliveries', null, hook.id],
    );
    assert.equal(event.data.actor.name, 'bootstrap');
    assert.ok(Math.abs(Number(got.headers['webhook-timestamp']) * 1000 - got.at) < 5000);
    const listed = await settled(hook.id, test.body.messageId, 'delivered');
    assert.deepEqual([listed.attempts, listed.responseStatus], [1, 204]);
  });

  it('retries a failing endpoint with one webhook-id, each attempt signed afresh, until it answers 2xx', async () => {
    answers.set('/flaky', [500, 503, 200]);
    const hook = await endpoint('/flaky');
    const { messageId } = (await call('POST', `/v1/webhooks/${hook.id}/test`)).body;
    const attempts = await receivedAt('/flaky', 3);
    assert.deepEqual(
      attempts.map((a) => a.headers['webhook-id']),
      [messageId, messageId, messageId],
    );
    for (const attempt of attempts) new Webhook(hook.secret).verify(attempt.body, attempt.headers);
    assert.equal(new Set(attempts.map((a) => a.body)).size, 1, 'the same bytes every time');
    const listed = await settled(hook.id, messageId, 'delivered');
    assert.deepEqual([listed.attempts, listed.responseStatus], [3, 200]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal((await receivedAt('/flaky', 3)).length, 3, 'nothing after the success');
  });

  it('gives up after the schedule (failed), and a redelivery sends the same message again', async () => {
    answers.set('/down', [500]);
    const hook = await endpoint('/down');
    const { messageId } = (await call('POST', `/v1/webhooks/${hook.id}/test`)).body;
    const failed = await settled(hook.id, messageId, 'failed');
    assert.deepEqual(
      [failed.attempts, failed.responseStatus],
      [4, 500],
      'the first attempt and three retries',
    );
    assert.equal((await receivedAt('/down', 4)).length, 4);
    answers.set('/down', [200]);
    const again = await call('POST', `/v1/webhooks/${hook.id}/deliveries/${messageId}/redeliver`);
    assert.equal(again.status, 202, again.text);
    const all = await receivedAt('/down', 5);
    assert.equal(all.at(-1)?.headers['webhook-id'], messageId);
    assert.equal((await settled(hook.id, messageId, 'delivered')).attempts, 5);
    assertError(
      await call('POST', `/v1/webhooks/${hook.id}/deliveries/msg_000000000ffffffffffffffff/redeliver`),
      404,
      'webhook_not_found',
    );
  });

  it('410 disables the endpoint at once, and the tenant’s other endpoints get tfa.webhook.disabled', async () => {
    const watcher = await endpoint('/watcher', ['tfa.webhook.disabled']);
    answers.set('/gone', [410]);
    const hook = await endpoint('/gone');
    const { messageId } = (await call('POST', `/v1/webhooks/${hook.id}/test`)).body;
    await settled(hook.id, messageId, 'failed');
    assert.equal((await receivedAt('/gone', 1)).length, 1, 'no retry after 410');
    assert.equal((await call('GET', `/v1/webhooks/${hook.id}`)).body.status, 'disabled');
    const [told] = await receivedAt('/watcher', 1);
    assert.ok(told);
    const event = new Webhook(watcher.secret).verify(told.body, told.headers) as any;
    assert.equal(event.type, 'tfa.webhook.disabled');
    assert.deepEqual([event.data.webhookId, event.data.url], [hook.id, `${base}/gone`]);
    // A disabled endpoint is sent nothing more.
    const later = (await call('POST', `/v1/webhooks/${hook.id}/test`)).body.messageId;
    await settled(hook.id, later, 'failed');
    assert.equal((await receivedAt('/gone', 1)).length, 1);
  });

  it('a paused endpoint keeps its messages and gets them once resumed', async () => {
    const hook = await endpoint('/paused');
    await call('PATCH', `/v1/webhooks/${hook.id}`, { status: 'paused' });
    const { messageId } = (await call('POST', `/v1/webhooks/${hook.id}/test`)).body;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(received.filter((r) => r.path === '/paused').length, 0, 'nothing while paused');
    assert.equal((await deliveries(hook.id))[0]?.status, 'pending');
    await call('PATCH', `/v1/webhooks/${hook.id}`, { status: 'active' });
    const [got] = await receivedAt('/paused', 1);
    assert.equal(got?.headers['webhook-id'], messageId);
  });

  it('after a rotation, each delivery verifies with the new secret and with the old one', async () => {
    const hook = await endpoint('/rotated');
    const { secret } = (await call('POST', `/v1/webhooks/${hook.id}/rotate-secret`)).body;
    await call('POST', `/v1/webhooks/${hook.id}/test`);
    const [got] = await receivedAt('/rotated', 1);
    assert.ok(got);
    assert.equal(got.headers['webhook-signature']?.split(' ').length, 2);
    for (const key of [secret, hook.secret]) new Webhook(key).verify(got.body, got.headers);
  });

  it('one tenant reaches neither the deliveries nor the redelivery of another', async () => {
    const hook = await endpoint('/private');
    const { messageId } = (await call('POST', `/v1/webhooks/${hook.id}/test`)).body;
    const other = await client.tenant(operatorKey, 'deliveries-other');
    for (const [method, path] of [
      ['GET', `/v1/webhooks/${hook.id}/deliveries`],
      ['POST', `/v1/webhooks/${hook.id}/deliveries/${messageId}/redeliver`],
      ['POST', `/v1/webhooks/${hook.id}/test`],
    ] as const) {
      assertError(await client.call(method, path, { key: other }), 404, 'webhook_not_found');
    }
  });

  it('a settings change and an unlock arrive as events, with what changed and who did it, and never a secret', async () => {
    const hook = await endpoint('/events', ['tfa.settings.updated', 'tfa.user.unlocked']);
    const changed = await call('PATCH', '/v1/settings', {
      lockout: { maxFailures: 2 },
      issuer: 'Delivery Hosting',
    });
    assert.equal(changed.status, 200, changed.text);
    const { setup } = await enrol(client, admin, 'lena');
    for (let i = 0; i < 2; i++) await call('POST', '/v1/users/lena/verify', { code: '000000' });
    // An unlock of a user that is not locked changes nothing, and says nothing.
    await call('POST', '/v1/users/nobody-locked/unlock');
    assert.equal((await call('POST', '/v1/users/lena/unlock')).status, 200);
    const got = await receivedAt('/events', 2);
    const events = got.map((g) => new Webhook(hook.secret).verify(g.body, g.headers) as any);
    for (const event of events)
      assert.equal(mismatch('#/components/schemas/SecurityEvent', event), undefined);
    const byType = new Map(events.map((e) => [e.type, e]));
    assert.deepEqual([...byType.keys()].sort(), ['tfa.settings.updated', 'tfa.user.unlocked']);
    const settings = byType.get('tfa.settings.updated');
    assert.deepEqual(settings.data.fields, ['lockout.maxFailures', 'issuer']);
    assert.deepEqual([settings.data.userId, settings.data.actor.name], [null, 'bootstrap']);
    assert.equal(settings.data.requestId, changed.headers.get('x-request-id'));
    assert.deepEqual(Object.keys(byType.get('tfa.user.unlocked').data).sort(), [
      'actor',
      'at',
      'requestId',
      'tenantId',
      'userId',
    ]);
    assert.equal(byType.get('tfa.user.unlocked').data.userId, 'lena');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal((await receivedAt('/events', 2)).length, 2, 'exactly one message each');
    for (const body of received.map((r) => r.body)) {
      assert.ok(
        !body.includes(setup.secret) && !body.includes(hook.secret.slice(6)),
        'no secret in any event',
      );
    }
  });

  it('an event whose change committed is delivered even when publishing it failed after the write', async () => {
    const hook = await endpoint('/after-cut', ['tfa.settings.updated']);
    // Every write of a message is lost on the wire: the request's publishing fails after the change.
    storeProxy.add({ target: 'DynamoDB_20120810.PutItem', bodyIncludes: 'DELIVERY#', fault: 'reset' });
    const changed = await call('PATCH', '/v1/settings', { setupTtlSeconds: 700 });
    assert.equal(changed.status, 200, changed.text);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(received.filter((r) => r.path === '/after-cut').length, 0, 'nothing could be queued yet');
    storeProxy.clear();
    // A dispatcher run finds the event left in the tenant's item, and publishes it.
    const [got] = await receivedAt('/after-cut', 1);
    const event = new Webhook(hook.secret).verify(got?.body ?? '', got?.headers ?? {}) as any;
    assert.deepEqual(
      [event.type, event.data.fields, event.data.requestId],
      ['tfa.settings.updated', ['setupTtlSeconds'], changed.headers.get('x-request-id')],
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(received.filter((r) => r.path === '/after-cut').length, 1, 'once');
  });
});

describe('an endpoint failing for days', () => {
  const clock = movableClock();

  it('is disabled after five days of failures, and the tenant’s other endpoints are told', async () => {
    // A tenant of its own: the other tests used the first one's ten endpoints.
    const key = await client.tenant(operatorKey, 'deliveries-days');
    const call = (method: string, path: string, body?: unknown) =>
      client.call(method, path, { key, ...(body === undefined ? {} : { body }) });
    const endpoint = async (path: string, events: string[]) => {
      const reply = await call('POST', '/v1/webhooks', { url: `${base}${path}`, events });
      assert.equal(reply.status, 201, reply.text);
      return reply.body as { id: string };
    };
    const settled = async (id: string, messageId: string, status: string) => {
      const until = Date.now() + 15_000;
      for (;;) {
        const listed = (await call('GET', `/v1/webhooks/${id}/deliveries`)).body.deliveries;
        if (listed.find((d: { messageId: string }) => d.messageId === messageId)?.status === status) return;
        if (Date.now() > until) assert.fail(`${messageId}: not ${status}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const watcher = await endpoint('/watcher-days', ['tfa.webhook.disabled']);
    answers.set('/failing', [500]);
    const hook = await endpoint('/failing', ['tfa.user.locked']);
    const first = (await call('POST', `/v1/webhooks/${hook.id}/test`)).body.messageId;
    await settled(hook.id, first, 'failed');
    assert.equal(
      (await call('GET', `/v1/webhooks/${hook.id}`)).body.status,
      'active',
      'a day of failures is not five',
    );
    // Four days and 23 hours on, it still fails: still active.
    clock.advance(4 * 86_400_000 + 23 * 3_600_000);
    const second = (await call('POST', `/v1/webhooks/${hook.id}/test`)).body.messageId;
    await settled(hook.id, second, 'failed');
    assert.equal((await call('GET', `/v1/webhooks/${hook.id}`)).body.status, 'active');
    // Past five days since its first failure: the next failure disables it.
    clock.advance(2 * 3_600_000);
    const third = (await call('POST', `/v1/webhooks/${hook.id}/test`)).body.messageId;
    await settled(hook.id, third, 'failed');
    assert.equal((await call('GET', `/v1/webhooks/${hook.id}`)).body.status, 'disabled');
    const [told] = await receivedAt('/watcher-days', 1);
    // The service's clock is days ahead: the signature's timestamp is too, so the body is
    // read here without the receiver's five-minute check (signing is proven above).
    const event = JSON.parse(told?.body ?? '{}');
    assert.equal(told?.headers['webhook-signature']?.startsWith('v1,'), true);
    assert.deepEqual([event.type, event.data.webhookId], ['tfa.webhook.disabled', hook.id]);
    assert.equal(mismatch('#/components/schemas/SecurityEvent', event), undefined);
    assert.ok(watcher.id);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(receiver.at('/watcher-days').length, 1, 'told once');
  });
});

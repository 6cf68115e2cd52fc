import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { startReceiver } from '../support/receiver.ts';
import { startSecondServer, startTestService } from '../support/service.ts';

/**
 * Kill -9, as Lambda loses a container and as an operator's `npm start` is killed: the
 * service runs in child processes on the shared store (`lib/local/start.ts`, the same
 * program `npm start` runs), one is killed at the worst moment, another is started,
 * and the receiver (real HTTP, verifying each delivery with `standardwebhooks`) gets
 * the event all the same, with the one `webhook-id` of its message.
 */

process.env.TFA_WEBHOOK_ALLOW_LOOPBACK = '1';
process.env.TFA_WEBHOOK_RETRY_SECONDS = '0.3,0.3,0.3';
// This process serves the admin's calls only: its own dispatcher stays off (24 h).
const service = await startTestService();
const { client, operatorKey, storeProxy } = service;
const receiver = await startReceiver();
after(() => receiver.close());

const admin = await client.tenant(operatorKey, 'killed');
const call = async (method: string, path: string, body?: unknown) => {
  const reply = await client.call(method, path, { key: admin, ...(body === undefined ? {} : { body }) });
  assert.ok(reply.status < 300, `${method} ${path}: ${reply.text}`);
  return reply;
};
const dispatching = { TFA_SCHEDULE_MS: '200' };
const notDispatching = { TFA_SCHEDULE_MS: String(24 * 3_600_000) };

describe('kill -9', () => {
  it('right after a change’s write, before its event was published: the next start delivers it, once', async () => {
    const hook = (
      await call('POST', '/v1/webhooks', { url: `${receiver.base}/change`, events: ['tfa.settings.updated'] })
    ).body;
    // The first process writes the change, then hangs on its first message write: killed there.
    storeProxy.add({
      target: 'DynamoDB_20120810.PutItem',
      bodyIncludes: 'DELIVERY#',
      fault: { holdUntil: new Promise(() => undefined) },
    });
    const first = await startSecondServer(service, { storeEndpoint: storeProxy.url, env: notDispatching });
    const pending = first
      .call('PATCH', '/v1/settings', { key: admin, body: { setupTtlSeconds: 650 } })
      .catch(() => 'killed');
    await storeProxy.arrived({ target: 'DynamoDB_20120810.PutItem', bodyIncludes: 'DELIVERY#' });
    first.process.kill('SIGKILL');
    assert.equal(await pending, 'killed');
    storeProxy.clear();
    assert.equal((await call('GET', '/v1/settings')).body.setupTtlSeconds, 650, 'the change committed');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(receiver.at('/change').length, 0, 'nothing published before the restart');

    const restarted = await startSecondServer(service, { env: dispatching });
    await receiver.until('/change', 1, 30);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const [event, ...more] = receiver.events('/change', hook.secret);
    assert.equal(more.length, 0, 'once');
    assert.deepEqual([event?.type, event?.data.fields], ['tfa.settings.updated', ['setupTtlSeconds']]);
    restarted.process.kill('SIGTERM');
    await once(restarted.process, 'exit');
  });

  it('mid-delivery, the receiver still holding the attempt: the next start sends it again, same webhook-id', async () => {
    // The first attempt is never answered (the process dies waiting); the next is.
    receiver.answers.set('/send', [0, 204]);
    const hook = (await call('POST', '/v1/webhooks', { url: `${receiver.base}/send`, events: ['*'] })).body;
    const sender = await startSecondServer(service, { env: dispatching });
    const { messageId } = (await call('POST', `/v1/webhooks/${hook.id}/test`)).body;
    await receiver.until('/send', 1, 30);
    sender.process.kill('SIGKILL');

    // The attempt's lease (20 s) ends, and a new process sends the message again.
    await startSecondServer(service, { env: dispatching });
    const attempts = await receiver.until('/send', 2, 60);
    assert.deepEqual(
      attempts.map((a) => a.headers['webhook-id']),
      [messageId, messageId],
    );
    const events = receiver.events('/send', hook.secret);
    assert.deepEqual(
      events.map((e) => e.type),
      ['tfa.webhook.test', 'tfa.webhook.test'],
    );
    const until = Date.now() + 15_000;
    for (;;) {
      const listed = (await call('GET', `/v1/webhooks/${hook.id}/deliveries`)).body.deliveries;
      const found = listed.find((d: { messageId: string }) => d.messageId === messageId);
      if (found?.status === 'delivered') break;
      if (Date.now() > until) assert.fail(JSON.stringify(found));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { ApiError } from '../../lib/errors.ts';
import { parsePurgeJob } from '../../lib/queue/port.ts';
import { SqsPurgeQueue } from '../../lib/queue/sqsQueue.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// Dummy credentials: the endpoint below is ours, not AWS.
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';

// A local endpoint speaking SQS's JSON protocol (AmazonSQS.SendMessage) for the real
// @aws-sdk/client-sqs, which checks the MD5 of the body it sent against the answer.
const received: { QueueUrl: string; MessageBody: string; DelaySeconds?: number }[] = [];
let failing = false;
const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const input = JSON.parse(Buffer.concat(chunks).toString());
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify(body));
  };
  if (failing) return reply(400, { __type: 'com.amazonaws.sqs#RequestThrottled', message: 'slow down' });
  assert.equal(req.headers['x-amz-target'], 'AmazonSQS.SendMessage');
  received.push(input);
  const md5 = createHash('md5').update(input.MessageBody).digest('hex');
  return reply(200, { MessageId: `m-${received.length}`, MD5OfMessageBody: md5 });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const queueUrl = `${endpoint}/000000000000/tfa-purge`;

describe('the purge queue on SQS, over the wire', () => {
  it('sends each step as a message the purge function reads back, with its delay', async () => {
    const queue = new SqsPurgeQueue(queueUrl, { endpoint, region: 'local' });
    await queue.enqueue({ tenantId: 'acme' });
    await queue.enqueue({ tenantId: 'acme', settle: true }, 30);
    assert.deepEqual(
      received.map((m) => [m.QueueUrl, parsePurgeJob(m.MessageBody), m.DelaySeconds]),
      [
        [queueUrl, { tenantId: 'acme' }, 0],
        [queueUrl, { tenantId: 'acme', settle: true }, 30],
      ],
    );
  });

  it('a failing SQS is 503, and a message that is no job is refused, never guessed at', async () => {
    failing = true;
    try {
      const queue = new SqsPurgeQueue(queueUrl, { endpoint, region: 'local' });
      await assert.rejects(
        queue.enqueue({ tenantId: 'acme' }),
        (e: unknown) => e instanceof ApiError && e.code === 'service_unavailable',
      );
    } finally {
      failing = false;
    }
    for (const body of ['{}', '{"tenantId":"Not A Tenant"}', '{"tenantId":5}']) {
      assert.throws(() => parsePurgeJob(body), /valid tenantId/);
    }
  });
});

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import { readQueueConsumers } from '../../lib/local/routes.ts';
import { PROJECT_ROOT } from '../../lib/local/service.ts';
import { LocalQueue, localQueue } from '../../lib/queue/localQueue.ts';

// Local mode's SQS: each queue feeds its own consumers; a failed message comes back.
describe('the local queues (lib/queue/localQueue.ts)', () => {
  it('each queue serves its own consumers, in turn, and a message sent early waits for one', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const purge = new LocalQueue();
      const deliveries = new LocalQueue();
      const got: string[] = [];
      purge.send('early');
      mock.timers.tick(0);
      mock.timers.tick(1000);
      assert.equal(got.length, 0, 'no consumer yet');
      purge.subscribe(async (body) => void got.push(`purge:${body}`));
      const one = deliveries.subscribe(async (body) => void got.push(`a:${body}`));
      deliveries.subscribe(async (body) => void got.push(`b:${body}`));
      deliveries.send('1');
      deliveries.send('2');
      deliveries.send('3', 5);
      mock.timers.tick(1000);
      await Promise.resolve();
      assert.deepEqual(got.sort(), ['a:1', 'b:2', 'purge:early']);
      one(); // unsubscribed: the delayed message goes to the other
      mock.timers.tick(4000);
      assert.deepEqual(got.slice(3), ['b:3']);
    } finally {
      mock.timers.reset();
    }
  });

  it('a consumer that throws gets the message again a second later', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const queue = new LocalQueue();
      const attempts: string[] = [];
      queue.subscribe(async (body) => {
        attempts.push(body);
        if (attempts.length < 3) throw new Error('not yet');
      });
      queue.send('job');
      for (let i = 0; i < 5; i++) {
        mock.timers.tick(1000);
        for (let j = 0; j < 5; j++) await Promise.resolve();
      }
      assert.deepEqual(attempts, ['job', 'job', 'job']);
    } finally {
      mock.timers.reset();
    }
  });

  it('local mode subscribes each queue-triggered function of serverless.yml to its queue, by name', () => {
    assert.deepEqual(readQueueConsumers(join(PROJECT_ROOT, 'serverless.yml')), [
      { functionName: 'purge', handler: 'functions/purge.handler', queue: 'PurgeQueue' },
    ]);
    assert.equal(localQueue('PurgeQueue'), localQueue('PurgeQueue'));
  });
});

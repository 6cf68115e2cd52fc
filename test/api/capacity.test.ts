import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { unitsOf } from '../../bench/capacity.ts';
import { useDeps } from '../../lib/deps.ts';
import type { AwsCall } from '../../lib/observability/awsCalls.ts';
import { keysTableDefinition, tableDefinition } from '../../lib/store/table.ts';
import { codeFor } from '../support/otp.ts';
import { startTestService } from '../support/service.ts';
import { enrol } from '../support/users.ts';

// What the benchmark's cost is built on: the capacity a warm verify consumes, counted
// from the calls the service really makes, as the store reports it.
const service = await startTestService();
const { client } = service;
after(() => useDeps({}));

describe('the capacity a verify consumes, counted from its calls (bench/capacity.ts)', () => {
  it('four consistent item reads (the key table’s data-key item among them) and three write units', async () => {
    const admin = await client.tenant(service.operatorKey, 'capacity');
    const panel = await client.key(admin, ['users']);
    const { setup } = await enrol(client, panel, 'carol');
    const calls: AwsCall[] = [];
    // Each verify a step later than the last, on the service's clock: no waiting.
    let offset = 0;
    useDeps({ use: { now: () => Date.now() + offset }, observeAwsCalls: (call) => calls.push(call) });
    const verifyAt = async (steps: number) => {
      offset = steps * 30_000;
      const reply = await client.call('POST', '/v1/users/carol/verify', {
        key: panel,
        body: { code: codeFor(setup, steps) },
      });
      assert.equal(reply.body.valid, true, reply.text);
    };
    await verifyAt(2); // warm: the data key is opened and cached
    calls.length = 0;
    await verifyAt(4);

    assert.deepEqual(
      calls.map((c) => c.command),
      ['BatchGetItemCommand', 'UpdateItemCommand', 'PutItemCommand'],
    );
    const tables = [tableDefinition('tfa-local'), keysTableDefinition('tfa-local-keys')];
    const units = calls.map((call) => unitsOf(call, tables));
    assert.deepEqual(units, [
      { read: 4, write: 0 }, // tenant, API key, user, and the data key from the key table
      { read: 0, write: 1 }, // the user's conditional update: no index holds what it changes
      { read: 0, write: 2 }, // the audit event and its copy in the audit index
    ]);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ASSUMPTIONS, costPerMillion, PRICES } from '../../bench/cost.ts';

const warmVerify = {
  kms: 0,
  byCommand: {
    'DynamoDBClient.BatchGetItemCommand': 1,
    'DynamoDBClient.UpdateItemCommand': 1,
    'DynamoDBClient.PutItemCommand': 1,
  },
};
// What the store reports for a warm verify: four consistent item reads, the user's
// update, the audit event and its copy in the audit index.
const units = { read: 4, write: 3 };

describe('the cost model of bench/cost.ts', () => {
  it('bills the measured CPU time plus one round trip per DynamoDB call, and the units the calls consumed', () => {
    const cost = costPerMillion({ roundTrips: warmVerify, units, clientCpuMs: 4.05 });
    // 4.05 + 3 × 4 = 16.05 ms → 17 ms billed.
    const duration = Object.entries(cost.lines).find(([line]) => line.startsWith('Lambda duration'));
    assert.equal(duration?.[0], 'Lambda duration (17 ms, 256 MB arm64)');
    assert.equal(duration?.[1], Number((0.017 * 0.25 * PRICES.lambdaArmPerGbSecond * 1e6).toFixed(3)));
    assert.equal(cost.lines['DynamoDB reads (4 RRU)'], 0.5);
    assert.equal(cost.lines['DynamoDB writes (3 WRU)'], 1.875);
    assert.equal(cost.total, 3.63);
  });

  it('a millisecond of CPU past the rounding is a billed millisecond more', () => {
    const at = (clientCpuMs: number) =>
      Object.keys(costPerMillion({ roundTrips: warmVerify, units, clientCpuMs }).lines).find((line) =>
        line.startsWith('Lambda duration'),
      );
    assert.equal(at(4), 'Lambda duration (16 ms, 256 MB arm64)');
    assert.equal(at(4.001), 'Lambda duration (17 ms, 256 MB arm64)');
  });

  it('counts KMS calls and extra calls, and prints the figure at the memory’s CPU share beside the total', () => {
    const cost = costPerMillion({
      roundTrips: { kms: 1, byCommand: { ...warmVerify.byCommand, 'DynamoDBClient.GetItemCommand': 1 } },
      units: { read: 5, write: 3 },
      clientCpuMs: 4,
    });
    assert.equal(cost.lines['KMS (1 calls)'], PRICES.kmsPerMillion);
    assert.equal(cost.lines['DynamoDB reads (5 RRU)'], 0.625);
    // 4 ms of CPU at 256/1,769 of a vCPU is 27.6 ms, plus 4 round trips: 44 ms billed.
    const share = (ASSUMPTIONS.lambdaMemoryGb * 1024) / ASSUMPTIONS.oneVcpuAtMb;
    const slowMs = Math.ceil(4 / share + 4 * ASSUMPTIONS.dynamoRoundTripMs);
    assert.equal(slowMs, 44);
    const fixed = 1 + 0.2 + 0.625 + 1.875 + 3;
    assert.equal(
      cost.ifCpuAtMemoryShare,
      Number((fixed + (slowMs / 1000) * 0.25 * PRICES.lambdaArmPerGbSecond * 1e6).toFixed(2)),
    );
    assert.ok(cost.ifCpuAtMemoryShare > cost.total);
  });
});

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { after, describe, it } from 'node:test';
import { encodeSecret } from '../../lib/domain/totp.ts';
import { type Reply, startTestService } from '../support/service.ts';

/**
 * The service starved of CPU: every core is busy with other work (busy child
 * processes, twice as many as cores) while three 1,000-login imports, 150 setups,
 * 150 registrations and the enrolment reports of the importing tenants run at once,
 * with a function timeout short enough that requests run out of time. Every answer
 * must be 2xx, 4xx, or 503 with Retry-After (never a 500); no request writes after
 * its answer; each import, sent again after its 503s, ends whole; and the enrolment
 * counts come out exact.
 */

const service = await startTestService({ functionTimeoutSeconds: 12 });
const { client, operatorKey, storeProxy } = service;

/** Busy processes on every core, for at most `seconds`; stopped when the file ends. */
function starveCpu(seconds: number): ChildProcess[] {
  const burners = Array.from({ length: 2 * availableParallelism() }, () =>
    spawn(process.execPath, ['-e', `const end = Date.now() + ${seconds * 1000}; while (Date.now() < end);`], {
      stdio: 'ignore',
    }),
  );
  after(() => burners.forEach((burner) => burner.kill('SIGKILL')));
  return burners;
}

const exportOf = (prefix: string, count: number) =>
  Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`${prefix}${i}`, { secret: encodeSecret(randomBytes(10)) }]),
  );

const WRITES = new Set([
  'DynamoDB_20120810.UpdateItem',
  'DynamoDB_20120810.PutItem',
  'DynamoDB_20120810.DeleteItem',
  'DynamoDB_20120810.BatchWriteItem',
]);

/** An answer the contract allows under load. */
function assertAllowed(reply: Reply, what: string) {
  const ok = reply.status < 500 || (reply.status === 503 && reply.headers.get('retry-after') !== null);
  assert.ok(ok, `${what}: ${reply.status} ${reply.text}`);
}

describe('the service starved of CPU', () => {
  it('answers only 2xx, 4xx or 503 with Retry-After, writes nothing after an answer, and every import ends whole', async () => {
    const tenants = ['busy-a', 'busy-b', 'busy-c'];
    const admins = new Map<string, string>();
    for (const tenant of tenants) admins.set(tenant, await client.tenant(operatorKey, tenant));
    const setupTenant = await client.tenant(operatorKey, 'busy-setups');
    const users = await client.key(setupTenant, ['users']);
    const sources = new Map(tenants.map((tenant) => [tenant, exportOf(`${tenant}-`, 1000)]));
    starveCpu(240);

    /** When each import answered, and when it was sent again: no write of its tenant in between. */
    const quiet: { tenant: string; from: number; to: number }[] = [];
    const statuses: number[] = [];

    const importUntilDone = async (tenant: string) => {
      const source = sources.get(tenant);
      for (let attempt = 1; attempt <= 20; attempt++) {
        const reply = await client.call('POST', '/v1/import/cpanel', {
          key: admins.get(tenant) as string,
          body: { source },
        });
        statuses.push(reply.status);
        assertAllowed(reply, `import ${tenant}, try ${attempt}`);
        if (reply.status === 200) {
          assert.equal(reply.body.counts.conflict, 0, 'the same secrets are never a conflict');
          assert.equal(reply.body.counts.invalid, 0);
          return attempt;
        }
        const answeredAt = Date.now();
        await new Promise((resolve) => setTimeout(resolve, Number(reply.headers.get('retry-after')) * 1000));
        quiet.push({ tenant, from: answeredAt, to: Date.now() });
      }
      assert.fail(`${tenant}: no import finished in 20 tries`);
    };

    const setups = Array.from({ length: 150 }, (_, i) =>
      client.call('POST', `/v1/users/setup-${i}/setup`, { key: users, body: {} }).then((reply) => {
        statuses.push(reply.status);
        assertAllowed(reply, `setup ${i}`);
      }),
    );
    // Registrations, each sent again after a 503 (it is idempotent), and the counts read meanwhile.
    const support = await client.key(setupTenant, ['support']);
    const registrations = Array.from({ length: 150 }, async (_, i) => {
      for (let attempt = 1; attempt <= 20; attempt++) {
        const reply = await client.call('PUT', `/v1/users/registered-${i}`, { key: users, body: {} });
        statuses.push(reply.status);
        assertAllowed(reply, `registration ${i}, try ${attempt}`);
        if (reply.status === 200) return;
        await new Promise((resolve) => setTimeout(resolve, Number(reply.headers.get('retry-after')) * 1000));
      }
      assert.fail(`registration ${i}: not done in 20 tries`);
    });
    const reports = [...tenants, 'busy-a', 'busy-b'].flatMap((tenant) =>
      Array.from({ length: 5 }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 2000));
        const reply = await client.call('GET', '/v1/enrolment', { key: admins.get(tenant) as string });
        statuses.push(reply.status);
        assertAllowed(reply, `enrolment report of ${tenant}`);
      }),
    );
    const tries = await Promise.all([
      ...tenants.map(importUntilDone),
      ...setups,
      ...registrations,
      ...reports,
    ]);
    assert.ok(!statuses.includes(500), `statuses: ${statuses.join(' ')}`);

    // A request's writes all arrive before its answer: none in the quiet windows.
    for (const { tenant, from, to } of quiet) {
      const late = storeProxy.seen.filter(
        (r) => WRITES.has(r.target) && r.at > from + 50 && r.at < to && r.body.includes(`#${tenant}`),
      );
      assert.deepEqual(
        late.map((r) => r.target),
        [],
        `${tenant} wrote after its answer`,
      );
    }

    // Whole: the same export again changes nothing, and each login has one import event.
    for (const tenant of tenants) {
      const again = await client.call('POST', '/v1/import/cpanel', {
        key: admins.get(tenant) as string,
        body: { source: sources.get(tenant), dryRun: true },
      });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.counts.unchanged, 1000, again.text);
      const events = new Map<string, number>();
      let cursor: string | null = null;
      do {
        const page: Reply = await client.call(
          'GET',
          `/v1/audit?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          { key: admins.get(tenant) as string },
        );
        assert.equal(page.status, 200, page.text);
        for (const event of page.body.events) {
          if (event.action === 'import') events.set(event.userId, (events.get(event.userId) ?? 0) + 1);
        }
        cursor = page.body.nextCursor;
      } while (cursor);
      assert.equal(events.size, 1000, `${tenant}: ${events.size} users with an import event`);
      assert.ok(
        [...events.values()].every((n) => n === 1),
        `${tenant}: an import event twice`,
      );
    }
    // Exact: every import registered its 1,000; the 150 registrations count once each, the setups not at all.
    for (const tenant of tenants) {
      const report = await client.typed(admins.get(tenant) as string).enrolment.report();
      assert.deepEqual([report.counts.registered, report.counts.enrolled], [1000, 1000], tenant);
    }
    const registered = await client.typed(support).enrolment.report();
    assert.deepEqual([registered.counts.registered, registered.counts.unenrolled], [150, 150]);
    console.log(
      `imports finished after ${tries.slice(0, 3).join(', ')} tries; statuses: ${countOf(statuses)}`,
    );
  });
});

const countOf = (values: number[]) =>
  [...new Set(values)]
    .sort()
    .map((value) => `${value}×${values.filter((v) => v === value).length}`)
    .join(' ');

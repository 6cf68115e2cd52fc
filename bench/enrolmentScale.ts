import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { encodeSecret } from '../lib/domain/totp.ts';
import type { ApiClient } from '../test/support/service.ts';
import { percentile } from './percentile.ts';

/**
 * Part 8 of `npm run bench`: the enrolment report and one page of overdue users in a
 * tenant of `small` users beside one of `large` (20,000 by default), each populated the
 * same way through the API: a fifth enrolled (imported), the rest registered, a fourth
 * of those with their own due date passed (overdue), one in twenty exempt, the others
 * under a deadline ahead (due). Both answers must stay flat as the tenant grows (the
 * contract's bounded work): the ratio of the large tenant's median to the small one's
 * is the budget, and the DynamoDB calls each request made are counted beside it.
 */
export interface ScaleSide {
  users: number;
  report: { p50Ms: number; p99Ms: number; dynamodbCalls: number };
  overduePage: { p50Ms: number; p99Ms: number; dynamodbCalls: number; rows: number };
  populateSeconds: number;
}

export async function measureEnrolmentScale(
  client: ApiClient,
  operatorKey: string,
  options: { small: number; large: number; samples: number; dynamodbCalls: () => number },
) {
  const small = await side(client, operatorKey, options.small, options);
  const large = await side(client, operatorKey, options.large, options);
  return {
    small,
    large,
    reportRatio: round(large.report.p50Ms / small.report.p50Ms),
    overduePageRatio: round(large.overduePage.p50Ms / small.overduePage.p50Ms),
  };
}

async function side(
  client: ApiClient,
  operatorKey: string,
  users: number,
  options: { samples: number; dynamodbCalls: () => number },
): Promise<ScaleSide> {
  const started = performance.now();
  const admin = await client.tenant(operatorKey, `enrol${users}`);
  const support = await client.key(admin, ['support'], 'support');
  await client.typed(admin).settings.change({
    enrolment: {
      required: true,
      deadline: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      graceDays: 14,
    },
  });
  const id = (i: number) => `u${String(i).padStart(7, '0')}`;
  // Enrolled: imported, 1,000 logins a call (an import registers them too).
  const enrolled = Math.floor(users / 5);
  for (let from = 0; from < enrolled; from += 1000) {
    const source = Object.fromEntries(
      Array.from({ length: Math.min(1000, enrolled - from) }, (_, i) => [
        id(5 * (from + i)),
        { secret: encodeSecret(randomBytes(10)) },
      ]),
    );
    const reply = await client.call('POST', '/v1/import/cpanel', { key: admin, body: { source } });
    if (reply.status !== 200)
      throw new Error(`the import answered ${reply.status} ${reply.text.slice(0, 300)}`);
  }
  // Registered, the rest: every id not a multiple of 5, a few calls at a time.
  const registered = Array.from({ length: users }, (_, i) => i).filter((i) => i % 5 !== 0);
  let next = 0;
  const worker = async () => {
    while (next < registered.length) {
      const i = registered[next++] as number;
      const body = i % 20 === 1 ? { exempt: true } : i % 4 === 2 ? { dueAt: '2026-01-01T00:00:00Z' } : {};
      for (let attempt = 0; ; attempt++) {
        const reply = await client.call('PUT', `/v1/users/${id(i)}`, { key: support, body });
        if (reply.status === 200) break;
        if (reply.status !== 503 || attempt === 5) {
          throw new Error(`registering ${id(i)}: ${reply.status} ${reply.text.slice(0, 300)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const populateSeconds = round((performance.now() - started) / 1000);

  const timed = async (path: string) => {
    const times: number[] = [];
    let calls = 0;
    let rows = 0;
    for (let sample = 0; sample < options.samples; sample++) {
      const before = options.dynamodbCalls();
      const t0 = performance.now();
      const reply = await client.call('GET', path, { key: support });
      times.push(performance.now() - t0);
      calls += options.dynamodbCalls() - before;
      if (reply.status !== 200) throw new Error(`${path}: ${reply.status} ${reply.text.slice(0, 300)}`);
      rows = reply.body.users?.length ?? 0;
    }
    return {
      p50Ms: round(percentile(times, 50)),
      p99Ms: round(percentile(times, 99)),
      dynamodbCalls: round(calls / options.samples),
      rows,
    };
  };
  const report = await timed('/v1/enrolment');
  const counts = (await client.typed(support).enrolment.report()).counts;
  const expectedOverdue = registered.filter((i) => i % 20 !== 1 && i % 4 === 2).length;
  if (counts.registered !== users || counts.overdue !== expectedOverdue) {
    throw new Error(`the counts are not the population's: ${JSON.stringify(counts)}`);
  }
  const { rows: _rows, ...reportFigures } = report;
  return {
    users,
    report: reportFigures,
    overduePage: await timed('/v1/users?status=overdue&limit=100'),
    populateSeconds,
  };
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

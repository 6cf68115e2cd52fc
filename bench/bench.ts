/**
 * `npm run bench`: what a verify costs, measured in one run (a script, not a test).
 *
 * 1. Verify overhead against the floor: the verify handler in-process against the
 *    embedded store (in a process of its own), beside the bare storage operations a
 *    verify must do, issued directly with the SDK against the same store; the time
 *    and the CPU time of each; again with five authenticators a user (1b), and with
 *    ten webhook endpoints registered (1c), and with an Idempotency-Key on each verify (1d).
 * 2. HTTP throughput and latency with autocannon (in its own process) at 1, 8, 32
 *    connections: real verifies with fresh time steps, on an accelerated clock.
 * 3. AWS calls per warm verify, counted by SDK middleware.
 * 4. Cold start: each function bundled as deployed, its size and import time,
 *    beside an empty module, the DynamoDB client alone, and a naive bundle.
 * 5. Cost per million verifies from the measured counts and CPU time, and published prices.
 * 6. A cPanel import of 1,000 logins (the most one call takes), over HTTP: new
 *    ones, then the same again (all unchanged).
 * 7. `tfa --help`: the compiled CLI's start, and the TypeScript's through tsx.
 * 8. The enrolment report and a page of overdue users in a tenant of 20,000 users,
 *    beside one of 1,000 (bench/enrolmentScale.ts); `BENCH_ONLY=enrolment` runs it alone.
 *
 * Prints a table and writes bench/results.json. Traffic stays on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import {
  BatchGetItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { useDeps } from '../lib/deps.ts';
import { encodeSecret } from '../lib/domain/totp.ts';
import type { Event } from '../lib/http/types.ts';
import { localClientConfig } from '../lib/local/embeddedStore.ts';
import { PROJECT_ROOT, startLocalService } from '../lib/local/service.ts';
import { acceptStepUpdate } from '../lib/store/dynamoStore.ts';
import { auditToItem } from '../lib/store/items.ts';
import { apiKeyKey, keysTableDefinition, tableDefinition, tenantKey, userKey } from '../lib/store/table.ts';
import { startFakeKms } from '../test/support/fakeKms.ts';
import { codeFor } from '../test/support/otp.ts';
import { ApiClient } from '../test/support/service.ts';
import { measureCliStart } from './cliStart.ts';
import { measureColdStarts } from './coldStart.ts';
import { type SharedClock, virtualNow } from './clock.ts';
import { unitsOf } from './capacity.ts';
import { costPerMillion } from './cost.ts';
import { measureEnrolmentScale } from './enrolmentScale.ts';
import { percentile } from './percentile.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
// Part 1c registers webhook endpoints on 127.0.0.1; nothing is delivered during the bench
// (the dispatcher's polling would count as calls of the verifies measured).
process.env.TFA_WEBHOOK_ALLOW_LOOPBACK = '1';
process.env.TFA_SCHEDULE_MS ??= String(24 * 3_600_000);
const USERS = Number(process.env.BENCH_USERS ?? 50);
/**
 * Part 2's users and clock. A request carries the code of the (virtual) moment it is
 * sent and is judged at the moment it is served: at 32 connections a request waits up
 * to ~0.5 s, so the clock runs 30× (0.5 s is 15 s, inside the ±1 step window), and
 * enough users take turns that none is asked twice in one step (a replay).
 */
const HTTP_USERS = Number(process.env.BENCH_HTTP_USERS ?? 400);
const HTTP_CLOCK_SPEED = 30;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 60);
const HTTP_SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 10);
const PERIOD_MS = 30_000;

// The service logs and emits metrics as in Lambda (that work is part of the cost);
// its lines are dropped here rather than printed.
const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
  /^\{"(level|_aws)"/.test(String(chunk)) ? true : write(chunk, ...rest)) as typeof process.stdout.write;

const kms = await startFakeKms();
// The store in memory (the floor should be the fastest store there is, not a disk), in
// its own process: what this process spends is then the client's alone (part 1's CPU).
const store = await startStoreProcess();
const service = await startLocalService({
  dataDir: undefined,
  storeEndpoint: store.endpoint,
  port: 0,
  operatorKey: 'bench-operator-key-0123456789abcdef',
  kms: { endpoint: kms.url, keyId: kms.keyId },
});
let stepClock = Math.floor(Date.now() / PERIOD_MS) * PERIOD_MS + 10_000;
// The clock the service reads: a fresh time step per round, then an accelerated one.
let clock = () => stepClock;
const calls = new Map<string, number>();
// The capacity those calls consumed, as the store reports it (bench/capacity.ts).
const consumed = { read: 0, write: 0 };
const tables = [tableDefinition('tfa-local'), keysTableDefinition('tfa-local-keys')];
// Through the one seam of lib/deps.ts: the clock, and an observer of every AWS call.
const d = useDeps({
  use: { now: () => clock() },
  observeAwsCalls: (call) => {
    const name = `${call.service}.${call.command}`;
    calls.set(name, (calls.get(name) ?? 0) + 1);
    const units = unitsOf(call, tables);
    consumed.read += units.read;
    consumed.write += units.write;
  },
});

const client = new ApiClient(service.url);
// 8: the enrolment counts and filters at two tenant sizes, on the real clock.
const dynamodbCalls = () =>
  [...calls.entries()].filter(([k]) => k.startsWith('DynamoDBClient')).reduce((n, [, v]) => n + v, 0);
const enrolmentScale = () => {
  clock = () => Date.now();
  return measureEnrolmentScale(client, service.operatorKey, {
    small: Number(process.env.BENCH_ENROLMENT_SMALL ?? 1000),
    large: Number(process.env.BENCH_ENROLMENT_USERS ?? 20_000),
    samples: 40,
    dynamodbCalls,
  });
};
if (process.env.BENCH_ONLY === 'enrolment') {
  write(`${JSON.stringify(await enrolmentScale(), null, 2)}\n`);
  await service.close();
  store.close();
  await kms.close();
  process.exit(0);
}

// A tenant, a panel key and enrolled users, made through the API.
const admin = await client.tenant(service.operatorKey, 'bench');
const panelKey = await client.key(admin, ['users'], 'panel');
if (process.env.BENCH_ONLY === 'imports') {
  // Part 6 alone: every format's import of 1,000 logins a call.
  const imports: Record<string, unknown> = {};
  for (const format of ['cpanel', 'hestia', 'webmin', 'cyberpanel', 'otpauth']) {
    const runs = await importRun(Number(process.env.BENCH_IMPORTS ?? 3), format);
    imports[format] = { new: summary(runs.fresh), unchanged: summary(runs.again) };
  }
  write(`${JSON.stringify(imports, null, 2)}\n`);
  await service.close();
  store.close();
  await kms.close();
  process.exit(0);
}
const users: { userId: string; secret: string }[] = [];
// The floor's own users: it writes the same attributes as verify, so it must not share them.
const floorUsers: { userId: string; secret: string }[] = [];
const httpUsers: { userId: string; secret: string }[] = [];
for (let i = 0; i < 2 * USERS + HTTP_USERS; i++) {
  const userId = `user${i}`;
  const setup = await client.call('POST', `/v1/users/${userId}/setup`, { key: panelKey });
  const confirm = await client.call('POST', `/v1/users/${userId}/confirm`, {
    key: panelKey,
    body: { code: codeFor(setup.body, 0, stepClock) },
  });
  if (confirm.status !== 200) throw new Error(`enrolment failed: ${confirm.text}`);
  (i < USERS ? users : i < 2 * USERS ? floorUsers : httpUsers).push({ userId, secret: setup.body.secret });
}
// 1b: users with five authenticators each, verified by the fifth one's code (with and
// without its id), and a floor of their own: the same operations on items as large.
const MANY = 5;
type ManyUser = { userId: string; secret: string; authenticatorId: string };
async function enrolMany(prefix: string): Promise<ManyUser[]> {
  const made: ManyUser[] = [];
  for (let i = 0; i < USERS; i++) {
    const userId = `${prefix}${i}`;
    let last: ManyUser | undefined;
    for (let n = 0; n < MANY; n++) {
      const setup = await client.call('POST', `/v1/users/${userId}/setup`, {
        key: panelKey,
        body: n === 0 ? {} : { add: true },
      });
      const confirm = await client.call('POST', `/v1/users/${userId}/confirm`, {
        key: panelKey,
        body: { code: codeFor(setup.body, 0, stepClock) },
      });
      if (confirm.status !== 200) throw new Error(`enrolment failed: ${confirm.text}`);
      last = { userId, secret: setup.body.secret, authenticatorId: setup.body.authenticatorId };
    }
    made.push(last as ManyUser);
  }
  return made;
}
const manyUsers = await enrolMany('many');
const manyFloorUsers = await enrolMany('manyfloor');

// 1 and 3: the verify handler in-process, one fresh time step per round.
const { handler: verify } = await import('../functions/verify.ts');
const context = { awsRequestId: 'bench', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const event = (userId: string, code: string, authenticatorId?: string, idempotencyKey?: string): Event =>
  ({
    version: '2.0',
    routeKey: 'POST /v1/users/{userId}/verify',
    rawPath: `/v1/users/${userId}/verify`,
    rawQueryString: '',
    headers: {
      authorization: `Bearer ${panelKey}`,
      'content-type': 'application/json',
      ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
    },
    pathParameters: { userId },
    body: JSON.stringify({ code, ...(authenticatorId === undefined ? {} : { authenticatorId }) }),
    isBase64Encoded: false,
    requestContext: { requestId: `bench-${performance.now()}`, http: { method: 'POST' } },
  }) as unknown as Event;

async function handlerRun(
  rounds: number,
  list: { userId: string; secret: string }[] = users,
  named = false,
  withIdempotencyKey = false,
) {
  const latencies: number[] = [];
  for (let round = 0; round < rounds; round++) {
    stepClock += PERIOD_MS;
    for (const user of list) {
      const id = named ? (user as ManyUser).authenticatorId : undefined;
      const key = withIdempotencyKey ? randomUUID() : undefined;
      const request = event(user.userId, codeFor(user, 0, stepClock), id, key);
      const started = performance.now();
      const result = await verify(request, context);
      latencies.push(performance.now() - started);
      if (!JSON.parse(result.body ?? '{}').valid) throw new Error(`verify was not valid: ${result.body}`);
    }
  }
  return latencies;
}

await handlerRun(2); // warm: clients connected, data key cached, code paths compiled
// 1b: the floor, the same storage operations issued bare with the SDK.
const db = new DynamoDBClient({ ...localClientConfig(service.storeEndpoint), maxAttempts: 3 });
const [, , keyId] = panelKey.split('.');
// Steps after the one that confirmed the floor's users, always increasing, so each write's condition holds.
let step = Math.floor(stepClock / PERIOD_MS);
const activeIds = new Map(
  await Promise.all(
    [...floorUsers, ...manyFloorUsers].map(
      async (u) =>
        [u.userId, (await d.store.getUser('bench', u.userId))?.authenticators.at(-1)?.id ?? ''] as const,
    ),
  ),
);
async function floorRun(rounds: number, withAudit: boolean, list: { userId: string }[] = floorUsers) {
  const latencies: number[] = [];
  for (let round = 0; round < rounds; round++) {
    step++;
    for (const user of list) {
      const started = performance.now();
      await db.send(
        new BatchGetItemCommand({
          RequestItems: {
            'tfa-local': {
              Keys: [tenantKey('bench'), apiKeyKey('bench', keyId as string), userKey('bench', user.userId)],
              ConsistentRead: true,
            },
            // The tenant's data key, from its own table, in the same call (as loadContext does).
            'tfa-local-keys': { Keys: [{ pk: tenantKey('bench').pk }], ConsistentRead: true },
          },
        }),
      );
      // Exactly the verify's conditional update and audit put, built by the same code.
      await db.send(
        new UpdateItemCommand({
          TableName: 'tfa-local',
          Key: userKey('bench', user.userId),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...acceptStepUpdate(activeIds.get(user.userId) as string, step * 30, `floor-${step}`, {
            nowMs: Date.now(),
            lockout: { maxFailures: 5, lockSeconds: 300 },
          }),
        }),
      );
      if (withAudit) {
        const at = Date.now();
        const event = {
          tenantId: 'bench',
          at,
          action: 'verify' as const,
          userId: user.userId,
          actor: { keyId: keyId as string, name: 'panel' },
          outcome: 'success',
          reason: 'totp',
          requestId: `floor-${step}`,
        };
        await db.send(
          new PutItemCommand({
            TableName: 'tfa-local',
            Item: auditToItem(event, Math.ceil(at / 1000) + 400 * 86_400),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      }
      latencies.push(performance.now() - started);
    }
  }
  return latencies;
}
await floorRun(2, true);

// Handler and floors take turns, a round each: the table's growth, the collector and
// whatever else the machine does fall on all three alike.
const handlerLatencies: number[] = [];
const floor2: number[] = [];
const floor3: number[] = [];
const handlerCalls = new Map<string, number>();
// CPU time of this process per verify (all its threads: the collector's too), with the
// store elsewhere: the handler's is our code and the SDK's, the floor's the SDK's alone.
const handlerCpu: number[] = [];
const floorCpu: number[] = [];
const cpuPerVerify = async (into: number[], run: () => Promise<number[]>) => {
  const before = process.cpuUsage();
  const latencies = await run();
  const used = process.cpuUsage(before);
  into.push((used.user + used.system) / 1000 / latencies.length);
  return latencies;
};
const handlerUnits = { read: 0, write: 0 };
// Five authenticators: the same one read and one write, whatever their number.
const many = { unnamed: [] as number[], named: [] as number[], floor: [] as number[], dynamodbCalls: 0 };
calls.clear();
for (let round = 0; round < ROUNDS; round++) {
  many.unnamed.push(...(await handlerRun(1, manyUsers)));
  many.named.push(...(await handlerRun(1, manyUsers, true)));
  many.floor.push(...(await floorRun(1, true, manyFloorUsers)));
}
many.dynamodbCalls =
  [...calls.entries()].filter(([k]) => k.startsWith('DynamoDBClient')).reduce((n, [, v]) => n + v, 0) /
  (many.unnamed.length + many.named.length);
for (let round = 0; round < ROUNDS; round++) {
  calls.clear();
  Object.assign(consumed, { read: 0, write: 0 });
  handlerLatencies.push(...(await cpuPerVerify(handlerCpu, () => handlerRun(1))));
  for (const [k, v] of calls) handlerCalls.set(k, (handlerCalls.get(k) ?? 0) + v);
  handlerUnits.read += consumed.read;
  handlerUnits.write += consumed.write;
  floor2.push(...(await floorRun(1, false)));
  floor3.push(...(await cpuPerVerify(floorCpu, () => floorRun(1, true))));
}
calls.clear();
for (const [k, v] of handlerCalls) calls.set(k, v);
const verifies = handlerLatencies.length;
const perVerify = (prefix: string) =>
  [...calls.entries()].filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0) / verifies;
const roundTrips = {
  dynamodb: perVerify('DynamoDBClient'),
  kms: perVerify('KMSClient'),
  byCommand: Object.fromEntries([...calls.entries()].map(([k, v]) => [k, v / verifies])),
};
// Capacity units per verify, as the store counted them (plus the index writes).
const unitsPerVerify = {
  read: round(handlerUnits.read / verifies),
  write: round(handlerUnits.write / verifies),
};

// 1c: the same verifies with ten webhook endpoints registered for every event: a verify
// that fires no event does nothing for webhooks, however many endpoints there are.
for (let i = 0; i < 10; i++) {
  const hook = await client.call('POST', '/v1/webhooks', {
    key: admin,
    body: { url: `http://127.0.0.1:9/hook${i}`, events: ['*'] },
  });
  if (hook.status !== 201) throw new Error(`webhook registration failed: ${hook.text}`);
}
const hooked = { handler: [] as number[], floor: [] as number[], dynamodbCalls: 0, verifies: 0 };
for (let round = 0; round < ROUNDS; round++) {
  const before = dynamodbCalls();
  const latencies = await handlerRun(1);
  hooked.dynamodbCalls += dynamodbCalls() - before;
  hooked.verifies += latencies.length;
  hooked.handler.push(...latencies);
  hooked.floor.push(...(await floorRun(1, true)));
}

// 1d: the same verifies, each with a fresh Idempotency-Key, beside the same without one,
// round by round: the answer rides in the write a verify makes anyway, so the calls are
// the same and the time nearly so (the fingerprint's HMAC and the answer's sealing).
const keyed = {
  withKey: [] as number[],
  without: [] as number[],
  callsWith: 0,
  callsWithout: 0,
  verifies: 0,
};
for (let round = 0; round < ROUNDS; round++) {
  let before = dynamodbCalls();
  const without = await handlerRun(1);
  keyed.callsWithout += dynamodbCalls() - before;
  before = dynamodbCalls();
  const withKey = await handlerRun(1, users, false, true);
  keyed.callsWith += dynamodbCalls() - before;
  keyed.verifies += withKey.length;
  keyed.without.push(...without);
  keyed.withKey.push(...withKey);
}

if (process.env.BENCH_ONLY === 'overhead') {
  // For profiling part 1 alone: node --cpu-prof --import tsx bench/bench.ts
  write(
    `${JSON.stringify({
      handler: percentile(handlerLatencies, 50),
      floor: percentile(floor3, 50),
      handlerCpu: percentile(handlerCpu, 50),
      floorCpu: percentile(floorCpu, 50),
      dynamodbCallsPerVerify: round(roundTrips.dynamodb),
      idempotencyKey: {
        withKey: percentile(keyed.withKey, 50),
        without: percentile(keyed.without, 50),
        dynamodbCallsPerVerify: {
          withKey: keyed.callsWith / keyed.verifies,
          without: keyed.callsWithout / keyed.verifies,
        },
      },
      tenWebhooks: {
        handler: percentile(hooked.handler, 50),
        floor: percentile(hooked.floor, 50),
        ratioToFloor: round(percentile(hooked.handler, 50) / percentile(hooked.floor, 50)),
        dynamodbCallsPerVerify: round(hooked.dynamodbCalls / hooked.verifies),
      },
    })}\n`,
  );
  await service.close();
  store.close();
  await kms.close();
  process.exit(0);
}

// 2: HTTP under load, from another process, on an accelerated shared clock.
const shared: SharedClock = {
  originReal: Date.now(),
  originVirtual: stepClock + PERIOD_MS,
  speed: HTTP_CLOCK_SPEED,
};
clock = () => virtualNow(shared);
const http = [];
for (const connections of [1, 8, 32]) http.push(await load(connections));
clock = () => Date.now();

// 6: the cPanel import, 1,000 logins a call, against API Gateway's 30 s. Before the
// cold starts, which leave the service's connections idle for about a minute: a
// keep-alive connection reused at the moment the server closes it would be reset.
const importRuns = await importRun(Number(process.env.BENCH_IMPORTS ?? 3));
// 6b: the other panels' formats, 1,000 logins a call each, beside cPanel's.
const panelImports: Record<
  string,
  { new: ReturnType<typeof summary>; unchanged: ReturnType<typeof summary> }
> = {};
for (const format of ['hestia', 'webmin', 'cyberpanel', 'otpauth']) {
  const runs = await importRun(Number(process.env.BENCH_IMPORTS ?? 3), format);
  panelImports[format] = { new: summary(runs.fresh), unchanged: summary(runs.again) };
}

const enrolment = await enrolmentScale();

// 4: cold starts of the deployed bundles.
const coldStarts = await measureColdStarts();

// 7: the tfa command's start, compiled and through tsx.
const cliStart = measureCliStart();

// 5: cost.
const verifyMs = percentile(handlerLatencies, 50);
const handlerCpuMs = percentile(handlerCpu, 50);
const cost = costPerMillion({ roundTrips, units: unitsPerVerify, clientCpuMs: handlerCpuMs });

const results = {
  date: new Date().toISOString(),
  machine: `${process.platform} ${process.arch}, node ${process.version}`,
  verifyOverhead: {
    verifies,
    handler: summary(handlerLatencies),
    floorDecide: summary(floor2),
    floorDecideAndAudit: summary(floor3),
    ratioToDecideFloor: round(verifyMs / percentile(floor2, 50)),
    ratioToFloor: round(verifyMs / percentile(floor3, 50)),
    // Per verify, median over the rounds: the handler's (our code and the SDK's), the floor's (the SDK's).
    cpuMs: { handler: round(handlerCpuMs), floor: round(percentile(floorCpu, 50)) },
  },
  fiveAuthenticators: {
    withoutId: summary(many.unnamed),
    withId: summary(many.named),
    floorDecideAndAudit: summary(many.floor),
    ratioToFloorWithoutId: round(percentile(many.unnamed, 50) / percentile(many.floor, 50)),
    ratioToFloorWithId: round(percentile(many.named, 50) / percentile(many.floor, 50)),
    dynamodbCallsPerVerify: round(many.dynamodbCalls),
  },
  tenWebhooks: {
    handler: summary(hooked.handler),
    floorDecideAndAudit: summary(hooked.floor),
    ratioToFloor: round(percentile(hooked.handler, 50) / percentile(hooked.floor, 50)),
    dynamodbCallsPerVerify: round(hooked.dynamodbCalls / hooked.verifies),
  },
  idempotencyKey: {
    withKey: summary(keyed.withKey),
    without: summary(keyed.without),
    ratio: round(percentile(keyed.withKey, 50) / percentile(keyed.without, 50)),
    dynamodbCallsPerVerify: {
      withKey: round(keyed.callsWith / keyed.verifies),
      without: round(keyed.callsWithout / keyed.verifies),
    },
  },
  http,
  roundTrips,
  unitsPerVerify,
  coldStarts,
  cost,
  cpanelImport: { loginsPerCall: 1000, new: summary(importRuns.fresh), unchanged: summary(importRuns.again) },
  panelImports,
  cliStart,
  enrolment,
};
/** Each budget of the README: the figure measured, its limit, and whether it was met. */
const budget = (figure: number, limit: number) => ({ figure, limit, met: figure <= limit });
const verifyCold = coldStarts.functions.verify?.importMs ?? Number.NaN;
const dynamoOnly = coldStarts.references.dynamodbClientOnly?.importMs ?? Number.NaN;
const budgets = {
  // One BatchGetItem, one conditional UpdateItem, the audit put.
  warmVerifyDynamoDbCalls: budget(round(roundTrips.dynamodb), 3),
  warmVerifyKmsCalls: budget(round(roundTrips.kms), 0.01),
  inProcessRatioToFloor: budget(results.verifyOverhead.ratioToFloor, 1.3),
  // Several authenticators cost no round trip and stay within the same overhead.
  fiveAuthenticatorsDynamoDbCalls: budget(results.fiveAuthenticators.dynamodbCallsPerVerify, 3),
  fiveAuthenticatorsRatioWithoutId: budget(results.fiveAuthenticators.ratioToFloorWithoutId, 1.3),
  fiveAuthenticatorsRatioWithId: budget(results.fiveAuthenticators.ratioToFloorWithId, 1.3),
  // Ten webhook endpoints registered: the same calls and the same overhead.
  tenWebhooksDynamoDbCalls: budget(results.tenWebhooks.dynamodbCallsPerVerify, 3),
  tenWebhooksRatioToFloor: budget(results.tenWebhooks.ratioToFloor, 1.3),
  // An Idempotency-Key costs a verify no store round trip.
  idempotencyKeyDynamoDbCalls: budget(
    results.idempotencyKey.dynamodbCallsPerVerify.withKey,
    results.idempotencyKey.dynamodbCallsPerVerify.without,
  ),
  httpVerifiesNotAccepted: budget(
    http.reduce((n, h) => n + h.errors, 0),
    0,
  ),
  verifyColdImportRatio: budget(round(verifyCold / dynamoOnly, 2), 1.1),
  // Four consistent reads (tenant, API key, user, the data key from the key table),
  // three write units (the user, the audit event and its index copy), 16–19 ms billed.
  costPerMillionVerifiesUsd: budget(cost.total, 3.64),
  cpanelImport1000LoginsP99Ms: budget(results.cpanelImport.new.p99Ms, 10_000),
  // Every format through the same pipeline: as far inside API Gateway's 30 s.
  panelImport1000LoginsP99Ms: budget(
    Math.max(...Object.values(panelImports).map((p) => p.new.p99Ms)),
    10_000,
  ),
  // "Well under a second" for a person at a terminal, node's own start included.
  tfaHelpP50Ms: budget(cliStart.compiledMs, 500),
  // Bounded work at any tenant size: 20,000 users answer as fast as 1,000.
  enrolmentReportRatio: budget(enrolment.reportRatio, 1.5),
  overduePageRatio: budget(enrolment.overduePageRatio, 1.5),
  enrolmentReportDynamoDbCalls: budget(enrolment.large.report.dynamodbCalls, 6),
};
const report = { ...results, budgets };
await writeFile(join(PROJECT_ROOT, 'bench/results.json'), `${JSON.stringify(report, null, 2)}\n`);
printReport(report);
await service.close();
store.close();
await kms.close();
const notAccepted = http.filter((h) => h.errors > 0);
if (notAccepted.length > 0) {
  // Loudly: a valid code that the service did not accept is a defect, not noise.
  process.stderr.write(
    `\nFAILED: valid codes were not accepted: ${notAccepted.map((h) => `${h.connections} connections: ${JSON.stringify(h.answers)}`).join('; ')}\n`,
  );
  process.exit(1);
}
process.exit(0);

async function startStoreProcess() {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bench/storeProcess.ts')], {
    cwd: PROJECT_ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  return { endpoint: (JSON.parse(line) as { endpoint: string }).endpoint, close: () => child.stdin.end() };
}

/** 1,000 new logins of `format`, as that panel writes them (the fixtures' shapes). */
function exportOf(format: string, prefix: string): unknown {
  const logins = Array.from({ length: 1000 }, (_, i) => [`${prefix}x${i}`, encodeSecret(randomBytes(20))]);
  switch (format) {
    case 'cpanel':
      return Object.fromEntries(logins.map(([login, secret]) => [login, { secret }]));
    case 'hestia':
      return logins
        .map(([user, secret]) =>
          JSON.stringify({ [user as string]: { TWOFA: secret, ROLE: 'user' } }, null, 4),
        )
        .join('\n');
    case 'webmin':
      return logins.map(([user, secret]) => `${user}:totp:${secret}`).join('\n');
    case 'cyberpanel':
      return [
        'userName\temail\ttwoFA\tsecretKey',
        ...logins.map(([user, secret]) => `${user}\t${user}@example.net\t1\t${secret}`),
      ].join('\n');
    default:
      return logins
        .map(([user, secret]) => `otpauth://totp/Bench:${user}?secret=${secret}&issuer=Bench`)
        .join('\n');
  }
}

/** Each format's import of 1,000 new logins, then the same again (all unchanged), `runs` times. */
async function importRun(runs: number, format = 'cpanel') {
  const fresh: number[] = [];
  const again: number[] = [];
  for (let run = 0; run < runs; run++) {
    const source = exportOf(format, `${format}${run}`);
    for (const into of [fresh, again]) {
      const started = performance.now();
      const reply = await client.call('POST', `/v1/import/${format}`, { key: admin, body: { source } });
      into.push(performance.now() - started);
      const expected = into === fresh ? 'imported' : 'unchanged';
      if (reply.status !== 200 || reply.body.counts[expected] !== 1000) {
        throw new Error(`the ${format} import answered ${reply.status} ${reply.text.slice(0, 300)}`);
      }
    }
  }
  return { fresh, again };
}

async function load(connections: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bench/loadClient.ts')], {
    cwd: PROJECT_ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.end(
    JSON.stringify({
      url: service.url,
      key: panelKey,
      users: httpUsers,
      clock: shared,
      connections,
      seconds: HTTP_SECONDS,
    }),
  );
  let out = '';
  for await (const chunk of child.stdout) out += chunk;
  return JSON.parse(out) as {
    connections: number;
    requestsPerSecond: number;
    p50Ms: number;
    p99Ms: number;
    total: number;
    answers: Record<string, number>;
    errors: number;
  };
}

function summary(values: number[]) {
  return { p50Ms: round(percentile(values, 50)), p99Ms: round(percentile(values, 99)) };
}

function round(value: number, digits = 3): number {
  return Number(value.toFixed(digits));
}

function printReport(r: typeof report) {
  const o = r.verifyOverhead;
  const cold = r.coldStarts;
  const lines = [
    `Benchmark, ${r.date}, ${r.machine}`,
    '',
    `1. Verify overhead (${o.verifies} verifies, ${USERS} users, fresh steps)`,
    `   handler in-process        p50 ${o.handler.p50Ms} ms   p99 ${o.handler.p99Ms} ms`,
    `   floor: batch read + write p50 ${o.floorDecide.p50Ms} ms   p99 ${o.floorDecide.p99Ms} ms   ratio ${o.ratioToDecideFloor}`,
    `   floor: + audit put        p50 ${o.floorDecideAndAudit.p50Ms} ms   p99 ${o.floorDecideAndAudit.p99Ms} ms   ratio ${o.ratioToFloor}`,
    `   CPU per verify (store in its own process): handler ${o.cpuMs.handler} ms, floor ${o.cpuMs.floor} ms`,
    `   five authenticators, the fifth's code: without its id p50 ${r.fiveAuthenticators.withoutId.p50Ms} ms (ratio ${r.fiveAuthenticators.ratioToFloorWithoutId}), with it p50 ${r.fiveAuthenticators.withId.p50Ms} ms (ratio ${r.fiveAuthenticators.ratioToFloorWithId}), floor p50 ${r.fiveAuthenticators.floorDecideAndAudit.p50Ms} ms; DynamoDB calls ${r.fiveAuthenticators.dynamodbCallsPerVerify}`,
    `   ten webhook endpoints registered: p50 ${r.tenWebhooks.handler.p50Ms} ms (ratio ${r.tenWebhooks.ratioToFloor}), floor p50 ${r.tenWebhooks.floorDecideAndAudit.p50Ms} ms; DynamoDB calls ${r.tenWebhooks.dynamodbCallsPerVerify}`,
    `   with an Idempotency-Key: p50 ${r.idempotencyKey.withKey.p50Ms} ms, without p50 ${r.idempotencyKey.without.p50Ms} ms (ratio ${r.idempotencyKey.ratio}); DynamoDB calls ${r.idempotencyKey.dynamodbCallsPerVerify.withKey} with, ${r.idempotencyKey.dynamodbCallsPerVerify.without} without`,
    '',
    '2. HTTP verify (autocannon, own process)',
    ...r.http.map(
      (h) =>
        `   ${String(h.connections).padStart(2)} connections: ${Math.round(h.requestsPerSecond)} req/s  p50 ${h.p50Ms} ms  p99 ${h.p99Ms} ms  answers ${JSON.stringify(h.answers)}  errors ${h.errors}`,
    ),
    '',
    `3. AWS calls per warm verify: DynamoDB ${r.roundTrips.dynamodb}, KMS ${r.roundTrips.kms}  ${JSON.stringify(r.roundTrips.byCommand)}`,
    `   capacity consumed per verify: ${r.unitsPerVerify.read} read units, ${r.unitsPerVerify.write} write units`,
    '',
    '4. Cold start (esbuild, minified, as deployed; import time of a fresh node process)',
    ...Object.entries({ ...cold.references, ...cold.functions }).map(
      ([name, b]) =>
        `   ${name.padEnd(20)} ${String(Math.round(b.bytes / 1024)).padStart(5)} KB (${String(Math.round(b.withLazyChunksBytes / 1024)).padStart(4)} KB with the cache-miss chunks)  p50 ${b.importMs} ms  p99 ${b.importP99Ms} ms`,
    ),
    '',
    `5. Cost per million verifies (${r.cost.pricesAsOf}): $${r.cost.total} (CPU ${r.cost.clientCpuMs} ms per verify; $${r.cost.ifCpuAtMemoryShare} if it ran at 256 MB's CPU share)`,
    ...Object.entries(r.cost.lines).map(([k, v]) => `   ${k.padEnd(34)} $${v}`),
    '',
    `6. cPanel import, 1,000 logins in one call: new p50 ${r.cpanelImport.new.p50Ms} ms, unchanged p50 ${r.cpanelImport.unchanged.p50Ms} ms`,
    `   other formats, 1,000 logins a call, new / unchanged p50: ${Object.entries(r.panelImports)
      .map(([f, p]) => `${f} ${p.new.p50Ms} / ${p.unchanged.p50Ms} ms`)
      .join(', ')}`,
    '',
    `7. tfa --help, a fresh process to its exit (p50 of ${r.cliStart.runs}): compiled ${r.cliStart.compiledMs} ms, through tsx ${r.cliStart.throughTsxMs} ms`,
    '',
    '8. Enrolment at scale (the same population, a fifth enrolled, a fourth of the rest overdue)',
    ...[r.enrolment.small, r.enrolment.large].map(
      (e) =>
        `   ${String(e.users).padStart(6)} users: GET /v1/enrolment p50 ${e.report.p50Ms} ms (${e.report.dynamodbCalls} DynamoDB calls), a page of status=overdue p50 ${e.overduePage.p50Ms} ms (${e.overduePage.dynamodbCalls} calls, ${e.overduePage.rows} rows); registered through the API in ${e.populateSeconds} s`,
    ),
    `   ratio large/small: report ${r.enrolment.reportRatio}, overdue page ${r.enrolment.overduePageRatio}`,
    '',
    'Budgets (figure, limit)',
    ...Object.entries(r.budgets).map(
      ([name, b]) =>
        `   ${name.padEnd(32)} ${String(b.figure).padStart(10)}  ≤ ${String(b.limit).padEnd(8)} ${b.met ? 'met' : 'MISSED'}`,
    ),
  ];
  write(`${lines.join('\n')}\n`);
}

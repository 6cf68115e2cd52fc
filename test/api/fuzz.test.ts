import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_ROUTE, readRoutes } from '../../lib/local/routes.ts';
import { PROJECT_ROOT } from '../../lib/local/service.ts';
import { codeFor, freshStep } from '../support/otp.ts';
import { startTestService } from '../support/service.ts';
import { rawStore } from '../support/store.ts';

// Any body, any path parameter, any query and header, on every route: never a 5xx,
// every error in the contract's shape, and a refused request changes nothing stored.
const RUNS_PER_ROUTE = Number(process.env.TFA_FUZZ_RUNS ?? 40);
const UNCHANGED = new Set([400, 401, 403, 404, 409, 410]);

const service = await startTestService();
const { client, operatorKey } = service;
const raw = rawStore(service.storeEndpoint);
const keys: string[] = [];
let cases = 0;
let refusals = 0;

before(async () => {
  const admin = await client.tenant(operatorKey, 'fuzz');
  keys.push(admin, await client.key(admin, ['users']), await client.key(admin, ['support']), operatorKey);
  await freshStep();
  const setup = await client.call('POST', '/v1/users/victim/setup', { key: admin });
  await client.call('POST', '/v1/users/victim/confirm', { key: admin, body: { code: codeFor(setup.body) } });
});

after(() =>
  console.log(
    `# fuzz: ${cases} requests tried, ${refusals} refusals checked against a snapshot of the table`,
  ),
);

const snapshot = () => raw.snapshot();

const printable = fc.string({
  unit: fc.constantFrom(...' !"#$%&\'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~'.split('')),
});
const anyValue = fc.oneof(
  fc.jsonValue(),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.integer(),
  fc.constant(null),
);
const key = fc.oneof(
  fc.constantFrom(...[0, 1, 2, 3].map((i) => () => keys[i] as string)).map((get) => get()),
  printable,
  fc.constant(undefined),
);
const userId = fc.oneof(
  fc.constantFrom('victim', 'nobody', 'bob@example.com'),
  fc.string({ unit: 'binary', maxLength: 140 }),
  printable,
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.record({ code: anyValue }, { requiredKeys: [] }).map((b) => JSON.stringify(b)),
  fc
    .record(
      {
        accountName: anyValue,
        reconfigure: anyValue,
        reason: anyValue,
        name: anyValue,
        scopes: anyValue,
        tenantId: anyValue,
        issuer: anyValue,
      },
      { requiredKeys: [] },
    )
    .map((b) => JSON.stringify(b)),
  fc
    .record(
      {
        policy: anyValue,
        totp: fc.oneof(anyValue, fc.dictionary(fc.string(), anyValue)),
        lockout: anyValue,
        setupTtlSeconds: anyValue,
      },
      { requiredKeys: [] },
    )
    .map((b) => JSON.stringify(b)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.constant(JSON.stringify({ code: '123456', padding: 'x'.repeat(17 * 1024) })),
);
const query = fc.record(
  {
    limit: fc.oneof(fc.integer().map(String), printable),
    cursor: printable,
    status: printable,
    userId: printable,
  },
  { requiredKeys: [] },
);
const headers = fc.record(
  {
    'content-type': fc.oneof(
      fc.constantFrom(
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'APPLICATION/JSON',
      ),
      printable,
    ),
    'x-request-id': printable,
  },
  { requiredKeys: [] },
);

describe('fuzzing every route', () => {
  for (const route of readRoutes(join(PROJECT_ROOT, 'serverless.yml'))) {
    it(route.routeKey, async () => {
      await fc.assert(
        fc.asyncProperty(
          key,
          userId,
          printable,
          body,
          query,
          headers,
          async (k, user, other, payload, q, h) => {
            // The $default route: any path no other route has, here under /v1/.
            const path = (route.routeKey === DEFAULT_ROUTE ? '/v1/{id}/{userId}' : route.path)
              .replace('{userId}', encodeURIComponent(user))
              .replace('{tenantId}', encodeURIComponent(other))
              .replace('{id}', encodeURIComponent(other));
            const method = route.routeKey === DEFAULT_ROUTE ? 'POST' : route.method;
            const search = new URLSearchParams(q as Record<string, string>).toString();
            const before = await snapshot();
            const reply = await client.call(method, `${path}${search ? `?${search}` : ''}`, {
              ...(k === undefined ? {} : { key: k }),
              // fetch refuses a body on GET, as HTTP clients may; every other method gets one.
              ...(payload === undefined || method === 'GET' ? {} : { rawBody: payload }),
              headers: h as Record<string, string>,
            });
            cases++;
            const where = `${method} ${path} → ${reply.status} ${reply.text.slice(0, 200)}`;
            assert.ok(reply.status < 500, where);
            if (reply.status >= 400) {
              assert.deepEqual(Object.keys(reply.body), ['error'], where);
              assert.deepEqual(Object.keys(reply.body.error).sort(), ['code', 'message'], where);
              assert.match(reply.body.error.code, /^[a-z_]+$/, where);
            }
            if (UNCHANGED.has(reply.status)) {
              refusals++;
              assert.equal(await snapshot(), before, `stored data changed: ${where}`);
            }
          },
        ),
        {
          numRuns: RUNS_PER_ROUTE,
          reporter: (run) =>
            assert.ok(
              !run.failed,
              `${run.counterexample?.map((v) => String(v).slice(0, 200))}: ${String(run.errorInstance).slice(0, 600)}`,
            ),
        },
      );
    });
  }
});

/**
 * Soak test (not part of npm test): sustained concurrent enrolments and verifies
 * against the local service for a fixed time, then a consistency check that every
 * accepted time step was accepted exactly once and no enrolment was lost.
 *
 *   npm run soak                      # 60 s
 *   SOAK_SECONDS=600 SOAK_VERIFIERS=32 npm run soak
 *
 * Traffic goes to 127.0.0.1 only, and stops by itself.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalService } from '../lib/local/service.ts';
import { codeFor } from '../test/support/otp.ts';
import { ApiClient } from '../test/support/service.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.TFA_LOG_LEVEL ??= 'warn';

const seconds = Number(process.env.SOAK_SECONDS ?? 60);
const enrollers = Number(process.env.SOAK_ENROLLERS ?? 4);
const verifiers = Number(process.env.SOAK_VERIFIERS ?? 16);

const service = await startLocalService({
  dataDir: mkdtempSync(join(tmpdir(), 'tfa-soak-')),
  port: 0,
  operatorKey: 'soak-operator-key-0123456789abcdef',
});
const client = new ApiClient(service.url);
const admin = await client.tenant(service.operatorKey, 'soak');
const users = await client.key(admin, ['users']);
const support = await client.key(admin, ['support']);
// Locks would only slow the soak down; this test is about consistency.
await client.call('PATCH', '/v1/settings', {
  key: admin,
  body: { lockout: { maxFailures: 100, lockSeconds: 1 } },
});

const enrolled = new Map<string, { secret: string }>();
const accepted = new Map<string, number>(); // `${user}#${step}` → valid answers
const counts = {
  setups: 0,
  confirms: 0,
  verifies: 0,
  valid: 0,
  replayed: 0,
  invalid: 0,
  locked: 0,
  errors: 0,
};
const deadline = Date.now() + seconds * 1000;
let next = 0;

async function enroller() {
  while (Date.now() < deadline) {
    const userId = `u${next++}`;
    const setup = await client.call('POST', `/v1/users/${userId}/setup`, { key: users });
    counts.setups++;
    if (setup.status !== 201) {
      counts.errors++;
      continue;
    }
    const confirm = await client.call('POST', `/v1/users/${userId}/confirm`, {
      key: users,
      body: { code: codeFor(setup.body) },
    });
    if (confirm.status === 200) {
      counts.confirms++;
      enrolled.set(userId, setup.body);
    } else if (confirm.status >= 500) counts.errors++;
  }
}

async function verifier(worker: number) {
  while (Date.now() < deadline) {
    const ids = [...enrolled.keys()];
    if (ids.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      continue;
    }
    // Workers share a few dozen users, so several race for each code: the races are the point.
    const userId = ids[(worker + counts.verifies) % Math.min(ids.length, 48)] as string;
    const setup = enrolled.get(userId) as { secret: string };
    const step = Math.floor(Date.now() / 30_000);
    const reply = await client.call('POST', `/v1/users/${userId}/verify`, {
      key: users,
      body: { code: codeFor(setup) },
    });
    counts.verifies++;
    if (reply.status !== 200) {
      counts.errors++;
      continue;
    }
    const answer = reply.body;
    if (answer.valid) {
      counts.valid++;
      const key = `${userId}#${step}`;
      accepted.set(key, (accepted.get(key) ?? 0) + 1);
    } else if (answer.reason === 'replayed') counts.replayed++;
    else if (answer.reason === 'locked') counts.locked++;
    else counts.invalid++;
  }
}

const started = Date.now();
await Promise.all([
  ...Array.from({ length: enrollers }, () => enroller()),
  ...Array.from({ length: verifiers }, (_, i) => verifier(i)),
]);
const elapsed = (Date.now() - started) / 1000;

// Consistency: each (user, step) accepted at most once; every confirmed user enrolled and listed.
const doubles = [...accepted.entries()].filter(([, n]) => n > 1);
const listed = new Set<string>();
let cursor: string | null = null;
do {
  const query: string = `/v1/users?limit=100&status=enabled${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
  const page = await client.call('GET', query, { key: support });
  for (const user of page.body.users) listed.add(user.userId);
  cursor = page.body.nextCursor;
} while (cursor);
const lost = [...enrolled.keys()].filter((id) => !listed.has(id));

console.log(
  JSON.stringify(
    {
      seconds: elapsed,
      ...counts,
      verifiesPerSecond: Math.round(counts.verifies / elapsed),
      stepsAcceptedTwice: doubles.length,
      enrolmentsLost: lost.length,
    },
    null,
    2,
  ),
);
await service.close();
const ok = doubles.length === 0 && lost.length === 0 && counts.errors === 0 && counts.valid > 0;
console.log(ok ? 'soak: consistent' : 'soak: INCONSISTENT');
process.exit(ok ? 0 : 1);

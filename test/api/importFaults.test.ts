import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, it } from 'node:test';
import { encodeSecret } from '../../lib/domain/totp.ts';
import { codeFor, freshStep } from '../support/otp.ts';
import { startSecondServer, startTestService } from '../support/service.ts';
import { rawStore } from '../support/store.ts';
import { assertError, assertAccepted } from '../support/users.ts';

/**
 * The import under the faults an outside review mounted: a write failing mid-import,
 * a login named twice, secrets of any length and padding, a tenant deleted while its
 * import runs, and a server killed mid-import. Each login must end whole (an
 * authenticator with the export's secret and exactly one `import` event) or absent,
 * and a rerun of the same export must finish the work with no `conflict`.
 */

const service = await startTestService();
const { client, operatorKey, storeProxy } = service;
const raw = rawStore(service.storeEndpoint);

const secret = (bytes = 10) => encodeSecret(randomBytes(bytes));
const exportOf = (prefix: string, count: number) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, { secret: secret() }]));
const importing = (key: string, body: unknown) => client.call('POST', '/v1/import/cpanel', { key, body });
const codeOf = (text: string) => codeFor({ secret: text, algorithm: 'SHA1', digits: 6, period: 30 });

/** Every stored item of a tenant whose key starts with `prefix`. */
async function items(prefix: string): Promise<Record<string, AttributeValue>[]> {
  const found: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await raw.db.send(
      new ScanCommand({ TableName: raw.TableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    found.push(...(out.Items ?? []).filter((item) => item.pk?.S?.startsWith(prefix)));
    start = out.LastEvaluatedKey;
  } while (start);
  return found;
}

/** Each login of the export imported whole: the same secret active, and one `import` event. */
async function assertWhole(tenantId: string, admin: string, source: Record<string, { secret: string }>) {
  const again = await importing(admin, { source, dryRun: true });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.body.counts, {
    imported: 0,
    unchanged: Object.keys(source).length,
    conflict: 0,
    invalid: 0,
    skipped: 0,
  });
  const events = (await items(`AUDIT#${tenantId}#`)).filter((item) => item.action?.S === 'import');
  const perUser = new Map<string, number>();
  for (const event of events) {
    const user = event.userId?.S ?? '';
    perUser.set(user, (perUser.get(user) ?? 0) + 1);
  }
  for (const userId of Object.keys(source)) {
    assert.equal(perUser.get(userId), 1, `${userId}: ${perUser.get(userId) ?? 0} import events`);
  }
}

describe('an import that fails part-way', () => {
  it('a write refused mid-import: 503, every write settled first, and the rerun imports the rest, no conflict', async () => {
    const admin = await client.tenant(operatorKey, 'imp-fault');
    const source = exportOf('u', 600);
    // u5's write is throttled past the client's retries: the import stops there. Every
    // other write is slowed, so that many are still to come when it does.
    storeProxy.add({
      target: 'DynamoDB_20120810.UpdateItem',
      bodyIncludes: '"USER#imp-fault#u5"',
      fault: 'throttle',
    });
    storeProxy.add({
      target: 'DynamoDB_20120810.UpdateItem',
      bodyIncludes: '"USER#imp-fault#',
      fault: { delayMs: 15 },
    });
    try {
      const first = await importing(admin, { source });
      assertError(first, 503, 'service_unavailable');
      assert.ok(first.headers.get('retry-after'));
    } finally {
      storeProxy.clear();
    }
    const settledAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const late = storeProxy.seen.filter((r) => r.at > settledAt && r.body.includes('imp-fault'));
    assert.deepEqual(
      late.map((r) => r.target),
      [],
      'nothing of the import was written after its answer',
    );

    const second = await importing(admin, { source });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.counts.conflict, 0, 'the same secrets are never a conflict');
    assert.equal(second.body.counts.imported + second.body.counts.unchanged, 600);
    await assertWhole('imp-fault', admin, source);
    // And the secrets are the export's: a code of the last login verifies.
    const users = await client.key(admin, ['users']);
    await freshStep();
    const verified = await client.call('POST', '/v1/users/u599/verify', {
      key: users,
      body: { code: codeOf(source.u599?.secret ?? '') },
    });
    assertAccepted(verified.body);
  });

  it('a login named twice gets an outcome each, never a 503: the first decides', async () => {
    const admin = await client.tenant(operatorKey, 'imp-twice');
    const same = secret();
    const source = {
      acct1: { email: { 'info@example.com': { secret: same }, 'other@example.com': { secret: secret() } } },
      acct2: { email: { 'info@example.com': { secret: same }, 'other@example.com': { secret: secret() } } },
    };
    for (const dryRun of [true, false]) {
      const reply = await importing(admin, { source, dryRun });
      assert.equal(reply.status, 200, reply.text);
      assert.deepEqual(
        reply.body.results.map((r: { userId: string; outcome: string }) => `${r.userId} ${r.outcome}`),
        [
          'info@example.com imported',
          'other@example.com imported',
          'info@example.com unchanged',
          'other@example.com conflict',
        ],
      );
    }
    await assertWhole('imp-twice', admin, {
      'info@example.com': { secret: same },
      'other@example.com': source.acct1.email['other@example.com'],
    });
  });
});

describe('imported secrets', () => {
  it('are refused above 64 bytes, whatever their size, and stored for none of them', async () => {
    const admin = await client.tenant(operatorKey, 'imp-long');
    const reply = await importing(admin, {
      source: {
        max: { secret: secret(64) },
        over: { secret: secret(65) },
        huge: { secret: 'A'.repeat(390 * 1024) },
      },
    });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(
      reply.body.results.map((r: { outcome: string }) => r.outcome),
      ['imported', 'invalid_secret', 'invalid_secret'],
    );
    assert.ok(await raw.user('imp-long', 'max'));
    assert.equal(await raw.user('imp-long', 'over'), undefined);
    assert.equal(await raw.user('imp-long', 'huge'), undefined);
    assert.ok(!reply.text.includes('AAAAAAAA'), 'the secret is not echoed');
  });

  it('take = padding; a length that is no whole number of bytes is refused, not cut', async () => {
    const admin = await client.tenant(operatorKey, 'imp-pad');
    const twelve = secret(12); // 20 characters: 96 bits and 4 spare
    const reply = await importing(admin, {
      source: {
        padded: { secret: `${twelve}====` },
        bare: { secret: secret(12) },
        short: { secret: `${secret(10)}A` }, // 17 characters: 85 bits
        badPad: { secret: `${twelve}==` },
        inside: { secret: `${twelve.slice(0, 8)}=${twelve.slice(8)}` },
      },
    });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(
      reply.body.results.map((r: { userId: string; outcome: string }) => `${r.userId} ${r.outcome}`),
      [
        'padded imported',
        'bare imported',
        'short invalid_secret',
        'badPad invalid_secret',
        'inside invalid_secret',
      ],
    );
    const users = await client.key(admin, ['users']);
    await freshStep();
    const verified = await client.call('POST', '/v1/users/padded/verify', {
      key: users,
      body: { code: codeOf(twelve) },
    });
    assertAccepted(verified.body);
  });
});

describe('an import and its tenant', () => {
  it('a tenant deleted while its import runs: the import answers 401, never 500', async () => {
    const admin = await client.tenant(operatorKey, 'imp-deleted');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    storeProxy.add({
      target: 'DynamoDB_20120810.UpdateItem',
      bodyIncludes: '"USER#imp-deleted#',
      fault: { holdUntil: held },
    });
    try {
      const arrived = storeProxy.arrived({
        target: 'DynamoDB_20120810.UpdateItem',
        bodyIncludes: 'imp-deleted',
      });
      const pending = importing(admin, { source: exportOf('d', 40) });
      await arrived;
      const deleted = await client.call('DELETE', '/v1/tenants/imp-deleted', {
        key: operatorKey,
        body: { reason: 'offboarded during an import' },
      });
      assert.equal(deleted.status, 200, deleted.text);
      release();
      assertError(await pending, 401, 'unauthorized');
    } finally {
      release();
      storeProxy.clear();
    }
  });
});

describe('a server killed mid-import', () => {
  it('leaves no authenticator without its import event once the export is sent again', async () => {
    const second = await startSecondServer(service);
    const admin = await client.tenant(operatorKey, 'imp-killed');
    const source = exportOf('k', 1000);
    const pending = second
      .call('POST', '/v1/import/cpanel', { key: admin, body: { source } })
      .catch(() => 'cut');
    // Kill -9 once some logins are written, as Lambda loses a container.
    for (let i = 0; i < 400; i++) {
      const written = (await items('USER#imp-killed#')).length;
      if (written >= 50) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    second.process.kill('SIGKILL');
    assert.equal(await pending, 'cut');
    const written = (await items('USER#imp-killed#')).length;
    assert.ok(written > 0 && written < 1000, `${written} logins written before the kill`);
    const rerun = await importing(admin, { source });
    assert.equal(rerun.status, 200, rerun.text);
    assert.equal(rerun.body.counts.conflict, 0);
    await assertWhole('imp-killed', admin, source);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { open, SealError, seal } from '../../lib/crypto/aesGcm.ts';
import { LocalKeyVault } from '../../lib/crypto/localKeyVault.ts';
import { TenantKeyring } from '../../lib/crypto/tenantKeys.ts';
import { decodeCursor, encodeCursor } from '../../lib/crypto/cursors.ts';
import { ApiError } from '../../lib/errors.ts';
import { openSecret, sealSecret } from '../../lib/crypto/secrets.ts';

const key = Buffer.alloc(32, 7);

describe('AES-256-GCM sealing', () => {
  it('opens what it sealed, with a fresh nonce each time', () => {
    const a = seal(key, Buffer.from('secret'), 'aad');
    const b = seal(key, Buffer.from('secret'), 'aad');
    assert.notDeepEqual(a, b);
    assert.equal(open(key, a, 'aad').toString(), 'secret');
  });

  it('fails closed on another AAD, another key, or any altered byte', () => {
    const sealed = seal(key, Buffer.from('secret'), 'aad');
    assert.throws(() => open(key, sealed, 'other'), SealError);
    assert.throws(() => open(Buffer.alloc(32, 8), sealed, 'aad'), SealError);
    for (let i = 0; i < sealed.length; i++) {
      const altered = Buffer.from(sealed);
      altered[i] = (altered[i] as number) ^ 1;
      assert.throws(() => open(key, altered, 'aad'), SealError, `byte ${i}`);
    }
    assert.throws(() => open(key, sealed.subarray(0, 20), 'aad'), SealError);
  });

  it('a sealed TOTP secret opens only for its tenant, user and enrolment', () => {
    const keys = { secrets: key, recovery: key, cursors: key, requests: key };
    const at = { tenantId: 'acme', userId: 'bob', enrolmentId: 'e1' };
    const sealed = sealSecret(keys, at, Buffer.from('0123456789abcdefghij'));
    assert.equal(openSecret(keys, at, sealed).toString(), '0123456789abcdefghij');
    assert.throws(() => openSecret(keys, { ...at, userId: 'eve' }, sealed), SealError);
    assert.throws(() => openSecret(keys, { ...at, tenantId: 'evil' }, sealed), SealError);
    assert.throws(() => openSecret(keys, { ...at, enrolmentId: 'e2' }, sealed), SealError);
  });
});

describe('local key vault', () => {
  it("binds the data key to its tenant: tenant A's wrapped key does not open as B's", async () => {
    const vault = new LocalKeyVault(Buffer.alloc(32, 1));
    const { wrapped } = await vault.generateDataKey('tenant-a');
    await assert.rejects(vault.unwrapDataKey('tenant-b', wrapped), SealError);
  });
});

describe('tenant keyring', () => {
  it('single flight: requests that miss at once share one key-vault call per tenant', async () => {
    const vault = new LocalKeyVault(Buffer.alloc(32, 2));
    const calls = new Map<string, number>();
    let failing = true;
    const slow = {
      generateDataKey: (t: string) => vault.generateDataKey(t),
      unwrapDataKey: async (t: string, w: Uint8Array) => {
        calls.set(t, (calls.get(t) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (t === 'flaky' && failing) throw new Error('KMS throttled');
        return vault.unwrapDataKey(t, w);
      },
    };
    const ring = new TenantKeyring(slow, () => 0);
    const tenants = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => ({
        id: `t${i}`,
        ...(await vault.generateDataKey(`t${i}`)),
      })),
    );
    const opened = await Promise.all(
      tenants.flatMap((t) => Array.from({ length: 4 }, () => ring.keysFor(t.id, t.wrapped))),
    );
    assert.equal(
      [...calls.values()].reduce((a, b) => a + b, 0),
      50,
      'one call per tenant, not per request',
    );
    assert.equal(opened[0], opened[3], 'the waiters share the same keys');
    // A failed call fails every waiter, and the next request tries again.
    const flaky = await vault.generateDataKey('flaky');
    const results = await Promise.allSettled([1, 2, 3].map(() => ring.keysFor('flaky', flaky.wrapped)));
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    assert.equal(calls.get('flaky'), 1);
    failing = false;
    await ring.keysFor('flaky', flaky.wrapped);
    assert.equal(calls.get('flaky'), 2);
  });

  it('caches per tenant and per wrapped key, for a bounded time', async () => {
    let now = 0;
    const vault = new LocalKeyVault(Buffer.alloc(32, 1));
    const calls: string[] = [];
    const counting = {
      generateDataKey: (t: string) => vault.generateDataKey(t),
      unwrapDataKey: (t: string, w: Uint8Array) => {
        calls.push(t);
        return vault.unwrapDataKey(t, w);
      },
    };
    let hits = 0;
    const ring = new TenantKeyring(
      counting,
      () => now,
      1000,
      (hit) => {
        if (hit) hits++;
      },
    );
    const a = await vault.generateDataKey('a');
    const b = await vault.generateDataKey('b');
    const keysA = await ring.keysFor('a', a.wrapped);
    await ring.keysFor('a', a.wrapped);
    assert.deepEqual(calls, ['a']);
    const keysB = await ring.keysFor('b', b.wrapped);
    assert.notDeepEqual(keysA.secrets, keysB.secrets);
    await assert.rejects(
      ring.keysFor('b', a.wrapped),
      (e: unknown) => e instanceof ApiError && e.status === 503,
    );
    now = 1001;
    await ring.keysFor('a', a.wrapped);
    assert.deepEqual(calls, ['a', 'b', 'b', 'a']);
    assert.equal(hits, 1);
  });
});

describe('cursors', () => {
  const cursorKey = Buffer.alloc(32, 3);
  it('round-trips, and refuses another tenant, another listing, or any change', () => {
    const cursor = encodeCursor(cursorKey, 'acme', 'users', 'bob');
    assert.equal(decodeCursor(cursorKey, 'acme', 'users', cursor), 'bob');
    const refused = (fn: () => unknown) =>
      assert.throws(fn, (e: unknown) => e instanceof ApiError && e.code === 'invalid_cursor');
    refused(() => decodeCursor(cursorKey, 'other', 'users', cursor));
    refused(() => decodeCursor(cursorKey, 'acme', 'audit', cursor));
    refused(() => decodeCursor(Buffer.alloc(32, 4), 'acme', 'users', cursor));
    refused(() => decodeCursor(cursorKey, 'acme', 'users', `${cursor}x`));
    refused(() => decodeCursor(cursorKey, 'acme', 'users', 'garbage'));
    refused(() => decodeCursor(cursorKey, 'acme', 'users', ''));
  });

  it('accepts only the canonical encoding of its MAC: not malleable', () => {
    const refused = (cursor: string) =>
      assert.throws(
        () => decodeCursor(cursorKey, 'acme', 'users', cursor),
        (e: unknown) => e instanceof ApiError && e.code === 'invalid_cursor',
        cursor,
      );
    // Find a cursor whose MAC holds a `-` or `_`, so that the base64 spellings differ.
    let cursor = '';
    for (let i = 0; !/[-_]/.test(cursor.split('.')[1] ?? ''); i++) {
      cursor = encodeCursor(cursorKey, 'acme', 'users', `user${i}`);
    }
    const [payload, mac = ''] = cursor.split('.');
    // Each of these decodes, leniently, to the same 16 bytes.
    assert.deepEqual(Buffer.from(`${mac}==`, 'base64url'), Buffer.from(mac, 'base64url'));
    refused(`${payload}.${mac}==`);
    refused(`${payload}.${mac.replaceAll('-', '+').replaceAll('_', '/')}`);
    refused(`${payload}.${mac.slice(0, 3)}!${mac.slice(3)}`);
    refused(`${payload}.${mac} `);
  });
});

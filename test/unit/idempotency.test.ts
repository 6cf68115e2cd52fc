import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isIdempotencyKey,
  LEASE_MS,
  liveMemory,
  memoriesToDrop,
  recall,
  REMEMBER_MS,
  type RequestMemory,
  type VerifyMemory,
} from '../../lib/domain/idempotency.ts';
import { requestFingerprint, slotOf } from '../../lib/crypto/idempotency.ts';
import { sameBytes } from '../../lib/crypto/hashes.ts';

const T = 1_800_000_000_000;
const mine = Buffer.from('fingerprint-a');
const memory = (over: Partial<RequestMemory> = {}): RequestMemory => ({
  fingerprint: mine,
  token: 't',
  leaseUntil: T + LEASE_MS,
  expiresAt: T + REMEMBER_MS,
  ...over,
});

describe('Idempotency-Key rules (lib/domain/idempotency.ts)', () => {
  it('a key is 1 to 255 printable ASCII characters', () => {
    for (const key of ['a', 'x'.repeat(255), '5f0c2b8e-3d7a-4c59-9a51-2f6d8e7b1c40', 'with space ~!']) {
      assert.ok(isIdempotencyKey(key), key);
    }
    for (const key of ['', 'x'.repeat(256), 'tab\there', 'new\nline', 'é', '\u0000']) {
      assert.ok(!isIdempotencyKey(key), JSON.stringify(key));
    }
  });

  it('recall: absent, in flight, answered, reused, and what time frees', () => {
    assert.deepEqual(recall(undefined, mine, T, sameBytes), { kind: 'absent' });
    assert.deepEqual(recall(memory(), mine, T, sameBytes), { kind: 'in_flight' });
    assert.deepEqual(recall(memory(), Buffer.from('fingerprint-b'), T, sameBytes), { kind: 'reused' });
    const answer = { status: 201, body: Buffer.from('sealed') };
    assert.deepEqual(recall(memory({ answer }), mine, T, sameBytes), { kind: 'answered', answer });
    // Another request under an answered key is refused, not replayed.
    assert.deepEqual(recall(memory({ answer }), Buffer.from('fingerprint-b'), T, sameBytes), {
      kind: 'reused',
    });
    // A lease over (its process died) frees the key; an answer stays until it expires.
    assert.deepEqual(recall(memory(), mine, T + LEASE_MS, sameBytes), { kind: 'absent' });
    assert.equal(recall(memory({ answer }), mine, T + LEASE_MS, sameBytes).kind, 'answered');
    assert.deepEqual(recall(memory({ answer }), mine, T + REMEMBER_MS, sameBytes), { kind: 'absent' });
  });

  it('a user keeps its last four verify answers, none older than a day', () => {
    const at = (ms: number): VerifyMemory => ({ fingerprint: mine, sealedAnswer: mine, at: ms });
    const memories = new Map([
      ['old', at(T - REMEMBER_MS)],
      ['a', at(T - 4000)],
      ['b', at(T - 3000)],
      ['c', at(T - 2000)],
      ['d', at(T - 1000)],
    ]);
    assert.deepEqual(memoriesToDrop(memories, T).sort(), ['a', 'old']);
    assert.equal(liveMemory(memories, 'old', T), undefined);
    assert.equal(liveMemory(memories, 'd', T)?.at, T - 1000);
    assert.equal(liveMemory(undefined, 'd', T), undefined);
  });

  it('the store sees a hash of the key and a keyed hash of the request, never either', () => {
    assert.match(slotOf('my-key'), /^[0-9a-f]{64}$/);
    assert.notEqual(slotOf('my-key'), slotOf('my-key '));
    const request = {
      routeKey: 'POST /v1/users/{userId}/verify',
      params: { userId: 'bob' },
      query: '',
      body: '{"code":"123456"}',
    };
    const one = requestFingerprint(Buffer.alloc(32, 1), request);
    assert.ok(!one.toString('hex').includes(Buffer.from('123456').toString('hex')));
    assert.notDeepEqual(
      one,
      requestFingerprint(Buffer.alloc(32, 2), request),
      'keyed: another tenant, another hash',
    );
    assert.notDeepEqual(
      one,
      requestFingerprint(Buffer.alloc(32, 1), { ...request, body: '{"code":"123457"}' }),
    );
    assert.notDeepEqual(
      one,
      requestFingerprint(Buffer.alloc(32, 1), { ...request, params: { userId: 'bo' } }),
    );
    assert.notDeepEqual(one, requestFingerprint(Buffer.alloc(32, 1), { ...request, query: 'forget=true' }));
    // Path parameters in any order are one request.
    const two = { ...request, params: { b: '2', a: '1' } };
    assert.deepEqual(
      requestFingerprint(Buffer.alloc(32, 1), two),
      requestFingerprint(Buffer.alloc(32, 1), { ...request, params: { a: '1', b: '2' } }),
    );
  });
});

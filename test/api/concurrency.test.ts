import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { codeFor, freshStep } from '../support/otp.ts';
import { type ApiClient, startSecondServer, startTestService } from '../support/service.ts';
import { rawStore } from '../support/store.ts';
import { enrol } from '../support/users.ts';

const service = await startTestService();
const { client, operatorKey } = service;
let users: string;
let admin: string;
const second = await startSecondServer(service);

before(async () => {
  admin = await client.tenant(operatorKey, 'race');
  users = await client.key(admin, ['users']);
});

const verifyOn = (api: ApiClient, userId: string, code: string) =>
  api.call('POST', `/v1/users/${userId}/verify`, { key: users, body: { code } });

describe('concurrency, decided by the store', () => {
  it('20 simultaneous verifies of one valid code, across two processes: exactly one is valid', async () => {
    const { setup } = await enrol(client, users, 'racer');
    await freshStep();
    const code = codeFor(setup, 1);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => verifyOn(i % 2 === 0 ? client : second, 'racer', code)),
    );
    const answers = replies.map((r) => r.body);
    assert.equal(answers.filter((a) => a.valid === true).length, 1, JSON.stringify(answers));
    assert.equal(answers.filter((a) => a.reason === 'replayed').length, 19);
    const item = await rawStore(service.storeEndpoint).user('race', 'racer');
    assert.equal(
      Number(item?.lastStepAt?.N),
      (Math.floor(Date.now() / 30_000) + 1) * 30,
      'the stored step (its start, in seconds) is the one accepted',
    );
  });

  it('codes of steps s and s+1 raced: the stored step never goes down', async () => {
    const { setup } = await enrol(client, users, 'order');
    await freshStep();
    const replies = await Promise.all([
      ...Array.from({ length: 5 }, () => verifyOn(client, 'order', codeFor(setup, 1))),
      ...Array.from({ length: 5 }, () => verifyOn(second, 'order', codeFor(setup, 0))),
    ]);
    const valid = replies.filter((r) => r.body.valid).length;
    assert.ok(valid >= 1 && valid <= 2, `valid answers: ${valid}`);
    const item = await rawStore(service.storeEndpoint).user('race', 'order');
    assert.equal(Number(item?.lastStepAt?.N), (Math.floor(Date.now() / 30_000) + 1) * 30);
  });

  it('one recovery code sent ten times at once, across two processes: one valid, nine replayed, no lock', async () => {
    const { recoveryCodes } = await enrol(client, users, 'spender');
    const code = recoveryCodes[0] as string;
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => verifyOn(i % 2 === 0 ? client : second, 'spender', code)),
    );
    const answers = replies.map((r) => JSON.stringify(r.body)).sort();
    assert.deepEqual(answers, [
      ...Array(9).fill(JSON.stringify({ valid: false, reason: 'replayed' })),
      JSON.stringify({ valid: true, method: 'recovery', recoveryCodesRemaining: 9 }),
    ]);
    const status = await client.call('GET', '/v1/users/spender', { key: admin });
    assert.deepEqual(
      [status.body.lockedUntil, status.body.failedAttempts],
      [null, 0],
      'the user who just logged in is not locked',
    );
  });

  it('200 concurrent wrong guesses: exactly maxFailures are answered and counted before the lock', async () => {
    const { setup } = await enrol(client, users, 'guessed');
    await freshStep(30, 10);
    const right = codeFor(setup, 1);
    const wrong = (i: number) => String((Number(right) + 1 + i) % 1_000_000).padStart(6, '0');
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        verifyOn(i % 2 === 0 ? client : second, 'guessed', i === 150 ? right : wrong(i)),
      ),
    );
    const answers = replies.map((r) => r.body);
    const invalid = answers.filter((a) => a.reason === 'invalid_code').length;
    const locked = answers.filter((a) => a.reason === 'locked').length;
    const valid = answers.filter((a) => a.valid === true).length;
    // On a busy machine some run out of time: a 503 with Retry-After (the contract holds
    // every answer to that), which judged nothing or whose count may have landed.
    const unavailable = answers.filter((a) => a.error?.code === 'service_unavailable').length;
    // The right code may win before the lock (then the count restarts), never after it.
    assert.ok(valid <= 1);
    assert.ok(invalid <= 5 * (valid + 1), `invalid answers: ${invalid}`);
    assert.equal(
      invalid + locked + valid + unavailable,
      200,
      JSON.stringify(answers.filter((a) => !['invalid_code', 'locked'].includes(a.reason))),
    );
    if (valid === 0 && unavailable === 0) {
      assert.equal(invalid, 5, 'exactly maxFailures guesses were judged');
      assert.ok(locked > 0);
    }
    const status = await client.call('GET', '/v1/users/guessed', { key: admin });
    if (valid === 0 && invalid === 5) {
      assert.notEqual(status.body.lockedUntil, null, 'the user is locked');
      assert.equal((await verifyOn(client, 'guessed', codeFor(setup, 1))).body.reason, 'locked');
    }
    console.log(
      `# brute force: 200 concurrent guesses → ${invalid} invalid_code, ${locked} locked, ${valid} valid, ${unavailable} busy`,
    );
  });
});

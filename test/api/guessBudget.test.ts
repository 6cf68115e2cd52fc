import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { codeFor } from '../support/otp.ts';
import { type ApiClient, type Reply, startSecondServer, startTestService } from '../support/service.ts';
import { binomialBound } from '../support/stats.ts';
import { rawStore } from '../support/store.ts';
import { enrol, type TenantKeys, tenantWith } from '../support/users.ts';

/**
 * The guess budget under concurrency (docs/api.md, Verify, rules): however many attempts
 * are in flight, a code is accepted only if the store admitted its attempt while
 * fewer than `maxFailures` failures were counted (fewer than 100 for the disable).
 * The attack is mounted as an attacker would: the right code hidden at a random
 * place among parallel wrong ones, across two server processes, at verify and at
 * confirm; and, deterministically, the right code's write held back by the store
 * proxy until the failures were judged.
 */
const service = await startTestService();
const { client, operatorKey, storeProxy } = service;
const store = rawStore(service.storeEndpoint);
const second = await startSecondServer(service);

const IN_FLIGHT = 50;
const BURSTS = 12;
/** Chance that a correct budget is judged broken by bad luck alone, per scenario. */
const FALSE_ALARM = 1e-4;

type Tenant = TenantKeys;

const tenantLocking = (id: string, maxFailures: number) =>
  tenantWith(client, operatorKey, id, { lockout: { maxFailures, lockSeconds: 300 } });

const userPath = (userId: string, action = '') => `/v1/users/${userId}${action ? `/${action}` : ''}`;

/**
 * Removes the user and sets up a new pending enrolment. No wait for a fresh time
 * step is needed: the window of ±1 step keeps every code used here valid for 30 s.
 */
async function freshSetup(t: Tenant, userId: string) {
  await client.call('DELETE', userPath(userId), { key: t.support });
  const setup = await client.call('POST', userPath(userId, 'setup'), { key: t.users });
  assert.equal(setup.status, 201, setup.text);
  return setup.body as { secret: string };
}

/** A user enrolled afresh: confirmed with the code of step s, so the code of s+1 is the one to guess. */
async function freshEnrolment(t: Tenant, userId: string) {
  await client.call('DELETE', userPath(userId), { key: t.support });
  return enrol(client, t.users, userId);
}

/** `count` distinct six-digit codes that are none of the window's: certainly wrong. */
function wrongCodes(setup: { secret: string } | { secret: string }[], count: number): string[] {
  const secrets = [setup].flat();
  const window = new Set(secrets.flatMap((s) => [-1, 0, 1, 2].map((offset) => codeFor(s, offset))));
  const codes = new Set<string>();
  while (codes.size < count) {
    const code = String(randomInt(1_000_000)).padStart(6, '0');
    if (!window.has(code)) codes.add(code);
  }
  return [...codes];
}

/** `settled`: a confirm that came after the right one had activated the setup (and so ended it). */
type Outcome = 'won' | 'invalid_code' | 'locked' | 'disabled' | 'settled';

const verifyOutcome = (reply: Reply): Outcome => {
  if (reply.status === 200 && reply.body.valid === true) return 'won';
  if (reply.status === 200 && ['invalid_code', 'locked', 'disabled'].includes(reply.body.reason)) {
    return reply.body.reason;
  }
  throw new Error(`unexpected verify answer ${reply.status} ${reply.text}`);
};

const confirmOutcome = (reply: Reply): Outcome => {
  if (reply.status === 200) return 'won';
  if (reply.status === 422 && reply.body.error.code === 'invalid_code') return 'invalid_code';
  if (reply.status === 423 && reply.body.error.code === 'locked') return 'locked';
  if (reply.status === 404 && reply.body.error.code === 'no_pending_setup') return 'settled';
  throw new Error(`unexpected confirm answer ${reply.status} ${reply.text}`);
};

interface Scenario {
  name: string;
  /** Guesses the store may judge before the lock (or the disable). */
  budget: number;
  /** After a win resets the count, this many more may be judged in the same burst. */
  afterWin: number;
  /** What every attempt past the budget answers, the right code's included. */
  refusal: Outcome;
  servers: () => ApiClient[];
  /** Makes a fresh user state; returns the right code and the attempt function. */
  prepare: () => Promise<{
    right: string;
    wrong: string[];
    attempt: (api: ApiClient, code: string) => Promise<Outcome>;
  }>;
}

async function mountBursts(scenario: Scenario) {
  let wins = 0;
  for (let burst = 0; burst < BURSTS; burst++) {
    const { right, wrong, attempt } = await scenario.prepare();
    const position = randomInt(IN_FLIGHT);
    const codes = wrong.slice(0, IN_FLIGHT - 1);
    codes.splice(position, 0, right);
    const servers = scenario.servers();
    const outcomes = await Promise.all(
      codes.map((code, i) => attempt(servers[i % servers.length] as ApiClient, code)),
    );
    const counts = Object.fromEntries(
      (['won', 'invalid_code', 'locked', 'disabled', 'settled'] as const).map((o) => [
        o,
        outcomes.filter((x) => x === o).length,
      ]),
    ) as Record<Outcome, number>;
    const seen = JSON.stringify(counts);
    if (outcomes[position] === 'won') {
      wins++;
      assert.equal(counts.won, 1, seen);
      assert.ok(counts.invalid_code <= scenario.budget + scenario.afterWin, seen);
    } else {
      // Deterministic whatever the timing: exactly the budget was judged, and every
      // other attempt, the right code's included, met the lock.
      assert.equal(outcomes[position], scenario.refusal, seen);
      assert.equal(counts.won, 0, seen);
      assert.equal(counts.invalid_code, scenario.budget, `exactly the budget was judged: ${seen}`);
      assert.equal(counts[scenario.refusal], IN_FLIGHT - scenario.budget, seen);
    }
  }
  const chance = scenario.budget / IN_FLIGHT;
  const bound = binomialBound(BURSTS, chance, FALSE_ALARM);
  console.log(
    `# guess budget, ${scenario.name}: the right code won ${wins} of ${BURSTS} bursts ` +
      `(budget ${scenario.budget} of ${IN_FLIGHT} in flight: about ${(BURSTS * chance).toFixed(1)} expected, at most ${bound} allowed)`,
  );
  assert.ok(
    wins <= bound,
    `the right code won ${wins} of ${BURSTS} bursts; a budget allows at most ${bound}`,
  );
}

const verifyOn = (t: Tenant, userId: string) => async (api: ApiClient, code: string) =>
  verifyOutcome(await api.call('POST', userPath(userId, 'verify'), { key: t.users, body: { code } }));

const confirmOn = (t: Tenant, userId: string) => async (api: ApiClient, code: string) =>
  confirmOutcome(await api.call('POST', userPath(userId, 'confirm'), { key: t.users, body: { code } }));

const bothServers = () => [client, second];
const oneServer = () => [client];

describe('the guess budget holds however many attempts are in flight', () => {
  let five: Tenant;
  let one: Tenant;
  before(async () => {
    five = await tenantLocking('budget-five', 5);
    one = await tenantLocking('budget-one', 1);
  });

  const atVerify = (t: () => Tenant, userId: string) => async () => {
    const { setup } = await freshEnrolment(t(), userId);
    return { right: codeFor(setup, 1), wrong: wrongCodes(setup, IN_FLIGHT), attempt: verifyOn(t(), userId) };
  };
  /** A user with three authenticators; the right code is the third's. */
  const atVerifyOfThree = (t: () => Tenant, userId: string, named: boolean) => async () => {
    const { setup: first } = await freshEnrolment(t(), userId);
    const added = [];
    for (const label of ['Backup phone', 'Password manager']) {
      const setup = await client.typed(t().users).users.setup(userId, { add: true, label });
      await client.typed(t().users).users.confirm(userId, codeFor(setup));
      added.push(setup);
    }
    const third = added[1] as (typeof added)[number];
    const attempt = async (api: ApiClient, code: string) =>
      verifyOutcome(
        await api.call('POST', userPath(userId, 'verify'), {
          key: t().users,
          body: { code, ...(named ? { authenticatorId: third.authenticatorId } : {}) },
        }),
      );
    return { right: codeFor(third, 1), wrong: wrongCodes([first, ...added], IN_FLIGHT), attempt };
  };
  const atConfirm = (t: () => Tenant, userId: string) => async () => {
    const setup = await freshSetup(t(), userId);
    return { right: codeFor(setup), wrong: wrongCodes(setup, IN_FLIGHT), attempt: confirmOn(t(), userId) };
  };

  it('verify, maxFailures 5, 50 in flight in one process', () =>
    mountBursts({
      name: 'verify, maxFailures 5, one process',
      budget: 5,
      afterWin: 5,
      refusal: 'locked',
      servers: oneServer,
      prepare: atVerify(() => five, 'v5'),
    }));

  it('verify, maxFailures 5, 50 in flight across two processes', () =>
    mountBursts({
      name: 'verify, maxFailures 5, two processes',
      budget: 5,
      afterWin: 5,
      refusal: 'locked',
      servers: bothServers,
      prepare: atVerify(() => five, 'v5two'),
    }));

  it('verify, maxFailures 1, across two processes', () =>
    mountBursts({
      name: 'verify, maxFailures 1, two processes',
      budget: 1,
      afterWin: 1,
      refusal: 'locked',
      servers: bothServers,
      prepare: atVerify(() => one, 'v1'),
    }));

  it('verify, 96 consecutive failures counted: 4 guesses left before the disable', () =>
    mountBursts({
      name: 'verify, 4 guesses before the disable, two processes',
      budget: 4,
      afterWin: 5,
      refusal: 'disabled',
      servers: bothServers,
      prepare: async () => {
        const prepared = await atVerify(() => five, 'near')();
        await store.setUser(five.id, 'near', 'SET consecutiveFailures = :n', { ':n': { N: '96' } });
        return prepared;
      },
    }));

  // A wrong code checked against three authenticators counts three failures: with
  // maxFailures 5, two guesses are judged (3, then 6), not five. A version that counted
  // one failure per attempt judges five here, and fails.
  it("verify without an id, three authenticators, maxFailures 5: the third one's code among 49 wrong", () =>
    mountBursts({
      name: 'verify of three authenticators without an id, maxFailures 5, two processes',
      budget: 2,
      afterWin: 2,
      refusal: 'locked',
      servers: bothServers,
      prepare: atVerifyOfThree(() => five, 'three', false),
    }));

  it('verify naming the authenticator keeps the whole budget for it', () =>
    mountBursts({
      name: 'verify of one named authenticator of three, maxFailures 5, two processes',
      budget: 5,
      afterWin: 5,
      refusal: 'locked',
      servers: bothServers,
      prepare: atVerifyOfThree(() => five, 'named', true),
    }));

  it('confirm, maxFailures 5, across two processes', () =>
    mountBursts({
      name: 'confirm, maxFailures 5, two processes',
      budget: 5,
      afterWin: 5,
      refusal: 'locked',
      servers: bothServers,
      prepare: atConfirm(() => five, 'c5'),
    }));

  it('confirm, maxFailures 1, in one process', () =>
    mountBursts({
      name: 'confirm, maxFailures 1, one process',
      budget: 1,
      afterWin: 1,
      refusal: 'locked',
      servers: oneServer,
      prepare: atConfirm(() => one, 'c1'),
    }));
});

describe('a right code whose write reaches the store after the budget is spent is refused', () => {
  const UPDATE = 'DynamoDB_20120810.UpdateItem';
  const FAILURE = { target: UPDATE, bodyIncludes: 'lastFailureToken' };
  let t: Tenant;
  before(async () => {
    t = await tenantLocking('budget-order', 5);
  });

  /**
   * Sends the right attempt, holds its write at the store's door, lets `failures`
   * wrong attempts be judged by the store, then lets the right one's write through.
   */
  async function ordered(
    acceptMarker: string,
    right: () => Promise<Reply>,
    wrong: () => Promise<Reply>,
    failures: number,
  ) {
    storeProxy.clear();
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = { target: UPDATE, bodyIncludes: acceptMarker };
    storeProxy.add({ ...held, fault: { holdUntil: gate }, times: 1 });
    const arrived = storeProxy.arrived(held);
    const rightReply = right();
    await arrived;
    const judged = storeProxy.answered(FAILURE, failures);
    const wrongReplies = Promise.all(Array.from({ length: failures }, wrong));
    await judged;
    release();
    const [rightAnswer, wrongAnswers] = await Promise.all([rightReply, wrongReplies]);
    storeProxy.clear();
    return { rightAnswer, wrongAnswers };
  }

  const verify = (userId: string, code: string) => () =>
    client.call('POST', userPath(userId, 'verify'), { key: t.users, body: { code } });
  const confirm = (userId: string, code: string) => () =>
    client.call('POST', userPath(userId, 'confirm'), { key: t.users, body: { code } });

  it('verify: after 4 judged failures the right code wins; after 5 it answers locked', async () => {
    for (const [failures, expected] of [
      [4, 'won'],
      [5, 'locked'],
    ] as const) {
      const { setup } = await freshEnrolment(t, 'ordered');
      const { rightAnswer, wrongAnswers } = await ordered(
        'lastStepToken',
        verify('ordered', codeFor(setup, 1)),
        verify('ordered', wrongCodes(setup, 1)[0] as string),
        failures,
      );
      assert.deepEqual(wrongAnswers.map(verifyOutcome), Array(failures).fill('invalid_code'));
      assert.equal(verifyOutcome(rightAnswer), expected, `after ${failures} failures: ${rightAnswer.text}`);
    }
  });

  it('a recovery code too: after 5 judged failures it answers locked and stays unspent', async () => {
    const { setup, recoveryCodes } = await freshEnrolment(t, 'orderedrc');
    const { rightAnswer } = await ordered(
      'lastRecoveryToken',
      verify('orderedrc', recoveryCodes[0] as string),
      verify('orderedrc', wrongCodes(setup, 1)[0] as string),
      5,
    );
    assert.equal(verifyOutcome(rightAnswer), 'locked', rightAnswer.text);
    const status = await client.call('GET', userPath('orderedrc'), { key: t.support });
    assert.equal(status.body.recoveryCodesRemaining, 10);
    assert.notEqual(status.body.lockedUntil, null);
  });

  it('confirm: an activation that reaches the store after the lock is refused with 423 and leaves the lock', async () => {
    const setup = await freshSetup(t, 'orderedc');
    const { rightAnswer, wrongAnswers } = await ordered(
      ':pendingId',
      confirm('orderedc', codeFor(setup)),
      confirm('orderedc', wrongCodes(setup, 1)[0] as string),
      5,
    );
    assert.deepEqual(wrongAnswers.map(confirmOutcome), Array(5).fill('invalid_code'));
    assert.equal(confirmOutcome(rightAnswer), 'locked', rightAnswer.text);
    assert.ok(Number(rightAnswer.headers.get('retry-after')) >= 1);
    const status = await client.call('GET', userPath('orderedc'), { key: t.support });
    assert.equal(status.body.enabled, false, 'nothing was activated');
    assert.notEqual(status.body.lockedUntil, null, 'the lock is still there');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DISABLE_AFTER, planFailure } from '../../lib/domain/lockout.ts';
import { emptyUser, lockRemaining, userStatus } from '../../lib/domain/user.ts';

const lockout = { maxFailures: 5, lockSeconds: 300 };
const now = 1_800_000_000_000;
const user = (failedAttempts: number, consecutiveFailures = failedAttempts) => ({
  ...emptyUser('acme', 'bob'),
  failedAttempts,
  consecutiveFailures,
});

describe('planFailure', () => {
  it('counts freely while both thresholds are ahead', () => {
    assert.deepEqual(planFailure(user(0), lockout, now), {
      kind: 'count',
      failedBelow: 4,
      consecutiveBelow: 99,
    });
    assert.equal(planFailure(user(3), lockout, now).kind, 'count');
  });

  it('the failure that reaches maxFailures sets the lock and restarts the short count', () => {
    assert.deepEqual(planFailure(user(4, 14), lockout, now), {
      kind: 'threshold',
      expectFailed: 4,
      expectConsecutive: 14,
      failedAttempts: 0,
      lockedUntil: now + 300_000,
      disable: false,
    });
  });

  it(`the ${DISABLE_AFTER}th consecutive failure disables`, () => {
    const plan = planFailure(user(2, DISABLE_AFTER - 1), lockout, now);
    assert.equal(plan.kind, 'threshold');
    if (plan.kind === 'threshold') {
      assert.equal(plan.disable, true);
      assert.equal(plan.lockedUntil, undefined);
      assert.equal(plan.failedAttempts, 3);
    }
  });

  it('maxFailures 1 locks on the first failure', () => {
    const plan = planFailure(user(0), { maxFailures: 1, lockSeconds: 1 }, now);
    assert.equal(plan.kind, 'threshold');
  });
});

describe('status', () => {
  it('an unknown user is neither enabled nor pending', () => {
    const status = userStatus(undefined, 'enabled', now);
    assert.equal(status.enabled, false);
    assert.equal(status.pending, false);
    assert.equal(status.enforced, false);
    assert.equal(status.recoveryCodesRemaining, 0);
  });

  it('a lock in the past is no lock', () => {
    assert.equal(lockRemaining({ ...user(0), lockedUntil: now - 1 }, now), 0);
    assert.equal(lockRemaining({ ...user(0), lockedUntil: now + 1500 }, now), 1500);
    assert.equal(userStatus({ ...user(0), lockedUntil: now - 1 }, 'enabled', now).lockedUntil, null);
  });
});

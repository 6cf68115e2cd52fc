import { defaultEnrolment } from '../../lib/domain/enrolment.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DISABLE_AFTER,
  failureEffects,
  isDisabled,
  lockedUntil,
  lockRemaining,
  planFailure,
} from '../../lib/domain/lockout.ts';
import { emptyUser, userStatus } from '../../lib/domain/user.ts';

const lockout = { maxFailures: 5, lockSeconds: 300 };
const now = 1_800_000_000_000;
const user = (lockFailures: number, consecutiveFailures = lockFailures, lastFailureAt = now - 1000) => ({
  ...emptyUser('acme', 'bob'),
  lockFailures,
  consecutiveFailures,
  lastFailureAt,
});

describe('the lock, derived from the counts', () => {
  it('maxFailures failures counted, the last less than lockSeconds ago: locked until then', () => {
    assert.equal(lockedUntil(user(4), lockout, now), undefined);
    assert.equal(lockedUntil(user(5), lockout, now), now - 1000 + 300_000);
    assert.equal(lockRemaining(user(5), lockout, now), 299_000);
    assert.equal(lockedUntil(user(7), lockout, now), now - 1000 + 300_000, 'a lowered maxFailures locks too');
  });

  it('a lock in the past is no lock, to the millisecond', () => {
    const last = now - 300_000;
    assert.equal(lockedUntil(user(5, 5, last), lockout, now), undefined);
    assert.equal(lockedUntil(user(5, 5, last + 1), lockout, now), now + 1);
    assert.equal(lockRemaining(user(5, 5, last), lockout, now), 0);
    assert.equal(
      userStatus(user(5, 5, last), { policy: 'enabled', lockout, enrolment: defaultEnrolment() }, now)
        .lockedUntil,
      null,
    );
  });

  it('counts without a time of the last failure are no lock', () => {
    const { lastFailureAt: _, ...untimed } = user(5);
    assert.equal(lockedUntil(untimed, lockout, now), undefined);
  });

  it(`${DISABLE_AFTER} consecutive failures disable, whatever the lock`, () => {
    assert.equal(isDisabled(user(0, DISABLE_AFTER - 1)), false);
    assert.equal(isDisabled(user(0, DISABLE_AFTER)), true);
    assert.equal(
      userStatus(user(0, DISABLE_AFTER), { policy: 'enabled', lockout, enrolment: defaultEnrolment() }, now)
        .disabled,
      true,
    );
  });
});

describe('planFailure and its effects', () => {
  it('counts while below the limit, restarts once a lock has expired', () => {
    assert.deepEqual(planFailure(user(0), lockout, true, 1), {
      kind: 'count',
      bindsDisable: true,
      weight: 1,
    });
    assert.equal(planFailure(user(4), lockout, true, 3).kind, 'count');
    assert.deepEqual(planFailure(user(5, 5, now - 400_000), lockout, false, 2), {
      kind: 'restart',
      bindsDisable: false,
      weight: 2,
    });
  });

  it('the failure that lands on maxFailures locked; the one that lands on 100 disabled', () => {
    assert.deepEqual(failureEffects(user(4, 14), lockout, 1), { lockedNow: false, disabledNow: false });
    assert.deepEqual(failureEffects(user(5, 15), lockout, 1), { lockedNow: true, disabledNow: false });
    assert.deepEqual(failureEffects(user(3, DISABLE_AFTER), lockout, 1), {
      lockedNow: false,
      disabledNow: true,
    });
    assert.deepEqual(failureEffects(user(1, DISABLE_AFTER + 1), lockout, 1).disabledNow, false);
  });

  it('a failure weighing several authenticators: it may pass the limits, and the one that crosses them sets them', () => {
    assert.deepEqual(failureEffects(user(6, 6), lockout, 3), { lockedNow: true, disabledNow: false });
    assert.equal(failureEffects(user(3, DISABLE_AFTER + 2), lockout, 3).disabledNow, true, 'crossed 100');
    assert.equal(
      failureEffects(user(3, DISABLE_AFTER + 3), lockout, 3).disabledNow,
      false,
      'was at 100 before',
    );
  });

  it('maxFailures 1 locks on the first failure, also on a restart', () => {
    assert.equal(failureEffects(user(1), { maxFailures: 1, lockSeconds: 1 }, 1).lockedNow, true);
  });
});

describe('status', () => {
  it('an unknown user is neither enabled nor pending', () => {
    const status = userStatus(undefined, { policy: 'enabled', lockout, enrolment: defaultEnrolment() }, now);
    assert.equal(status.enabled, false);
    assert.equal(status.pending, false);
    assert.equal(status.enforced, false);
    assert.equal(status.recoveryCodesRemaining, 0);
    assert.equal(status.lockedUntil, null);
    assert.equal(status.disabled, false);
  });
});

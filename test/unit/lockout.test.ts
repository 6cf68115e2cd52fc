import { defaultEnrolment } from '../../lib/domain/enrolment.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DISABLE_AFTER,
  countsAfter,
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

describe('planFailure', () => {
  const shape = (p: ReturnType<typeof planFailure>) => [p.kind, p.locks, p.disables];
  it('counts while below the limit, restarts once a lock has expired', () => {
    assert.deepEqual(planFailure(user(0), lockout, true, 1), {
      kind: 'count',
      bindsDisable: true,
      weight: 1,
      from: { lockFailures: 0, consecutiveFailures: 0 },
      locks: false,
      disables: false,
    });
    assert.equal(planFailure(user(4), lockout, true, 3).kind, 'count');
    assert.deepEqual(shape(planFailure(user(5, 5, now - 400_000), lockout, false, 2)), [
      'restart',
      false,
      false,
    ]);
  });

  it('the failure that lands on maxFailures locks; the one that lands on 100 disables', () => {
    assert.deepEqual(shape(planFailure(user(3, 13), lockout, true, 1)), ['count', false, false]);
    assert.deepEqual(shape(planFailure(user(4, 14), lockout, true, 1)), ['count', true, false]);
    assert.deepEqual(shape(planFailure(user(2, DISABLE_AFTER - 1), lockout, true, 1)), [
      'count',
      false,
      true,
    ]);
    assert.deepEqual(
      shape(planFailure(user(1, DISABLE_AFTER + 1), lockout, false, 1)),
      ['count', false, false],
      'past the disable already: a confirm of a reconfigure sets nothing',
    );
  });

  it('a failure weighing several authenticators: it may pass the limits, and the one that crosses them sets them', () => {
    assert.deepEqual(shape(planFailure(user(3, 3), lockout, true, 3)), ['count', true, false]);
    assert.deepEqual(countsAfter(planFailure(user(3, 3), lockout, true, 3)), {
      lockFailures: 6,
      consecutiveFailures: 6,
    });
    assert.equal(planFailure(user(0, DISABLE_AFTER - 2), lockout, true, 3).disables, true, 'crosses 100');
    assert.equal(planFailure(user(0, DISABLE_AFTER), lockout, false, 3).disables, false, 'was at 100 before');
  });

  it('maxFailures 1 locks on the first failure, also on a restart', () => {
    const one = { maxFailures: 1, lockSeconds: 1 };
    assert.equal(planFailure(user(0), one, true, 1).locks, true);
    assert.deepEqual(shape(planFailure(user(1, 1, now - 5000), one, true, 1)), ['restart', true, false]);
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

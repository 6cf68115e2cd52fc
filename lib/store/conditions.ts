import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DISABLE_AFTER } from '../domain/lockout.ts';
import { N } from './items.ts';
import type { Admission } from './port.ts';

type Item = Record<string, AttributeValue>;

/**
 * The conditions of every conditional write, named for the rule each enforces and
 * joined with AND: the guess budget of lib/domain/lockout.ts, replay, and the states
 * a write admits, on one screen.
 */
export const itemExists = 'attribute_exists(pk)';
export const activeIs = 'active.id = :activeId';
export const noActive = 'attribute_not_exists(active)';
export const pendingIs = 'pending.id = :pendingId';
export const stepIsNew = '(attribute_not_exists(lastStep) OR lastStep < :step)';
export const codeUnspent = 'contains(recovery, :hash)';
export const failureIsNew = '(attribute_not_exists(lastFailureToken) OR lastFailureToken <> :token)';
// The guess budget of lib/domain/lockout.ts, over the same counts: locked means
// maxFailures failures counted, the last of them after the lock cutoff (now - lockSeconds).
// The item's failedAttempts is the count toward the lock (lockFailures in the code).
export const belowLimit = '(attribute_not_exists(failedAttempts) OR failedAttempts < :maxFailures)';
export const lockExpired = '(attribute_not_exists(failedAt) OR failedAt <= :lockCutoff)';
export const notLocked = `(${belowLimit} OR ${lockExpired})`;
export const atLimit = 'failedAttempts >= :maxFailures';
export const notDisabled =
  '(attribute_not_exists(consecutiveFailures) OR consecutiveFailures < :disableAfter)';
export const all = (...parts: string[]) => parts.join(' AND ');

/** The values of the budget's conditions, as of the request's clock and the tenant's settings. */
export const budgetValues = ({ nowMs, lockout }: Admission, bindsDisable: boolean): Item => ({
  ':maxFailures': N(lockout.maxFailures),
  ':lockCutoff': N(nowMs - lockout.lockSeconds * 1000),
  ...(bindsDisable ? { ':disableAfter': N(DISABLE_AFTER) } : {}),
});

/** A valid code resets both failure counts (it is admitted only while no lock is in force). */
export const resetFailures = 'failedAttempts = :zero, consecutiveFailures = :zero';

/**
 * The verify's write: replay protection, the guess budget and the failure reset in
 * one conditional update, so of N racing requests for one step the store lets
 * exactly one through, and none once the budget is spent.
 * Exported so the benchmark's storage floor issues exactly this update.
 */
export const acceptStepUpdate = (activeId: string, step: number, token: string, admission: Admission) => ({
  UpdateExpression: `SET lastStep = :step, lastStepToken = :token, lastVerifiedAt = :now, ${resetFailures}`,
  ConditionExpression: all(activeIs, stepIsNew, notLocked, notDisabled),
  ExpressionAttributeValues: {
    ':step': N(step),
    ':token': { S: token },
    ':now': N(admission.nowMs),
    ':zero': N(0),
    ':activeId': { S: activeId },
    ...budgetValues(admission, true),
  },
});

import { randomBytes } from 'node:crypto';
import type { UserRecord } from '../domain/user.ts';
import { type UpdateParts, joinParts } from './conditions.ts';
import { N } from './items.ts';
import { countingDirectory, enrolmentGroup, TTL_ATTRIBUTE } from './table.ts';
import { ATTR } from './userItem.ts';

/**
 * The parts of a user's write that keep its registration, its place in the enrolment
 * index and the tenant's counts right (enrolment.ts, enrolmentItems.ts). A write that
 * may change what the user counts as marks it for counting; the fold that counts it
 * compares what the item holds with what it was counted as, so a mark too many costs
 * a little work and never a wrong count.
 */

/** Listed by GET /v1/users: enrolled, pending or registered. */
export const listed = (user: UserRecord): UpdateParts => ({
  set: ['listTenant = :listTenant', 'listUser = :listUser'],
  values: { ':listTenant': { S: user.tenantId }, ':listUser': { S: user.userId } },
});

/** In the tenant's counting directory until the next fold has counted this write. */
export const markForCounting = (user: UserRecord): UpdateParts => ({
  set: ['directory = :countDirectory', 'directoryId = :countUser', `${ATTR.dirtyToken} = :dirtyToken`],
  values: {
    ':countDirectory': { S: countingDirectory(user.tenantId) },
    ':countUser': { S: user.userId },
    ':dirtyToken': { S: randomBytes(8).toString('hex') },
  },
});

const registeredNow = (nowMs: number): UpdateParts => ({
  set: [`${ATTR.registeredAt} = if_not_exists(${ATTR.registeredAt}, :registeredAt)`],
  values: { ':registeredAt': N(nowMs) },
});

/** The user holds an authenticator from this write on: registered, and enrolled. */
export const enrolledParts = (user: UserRecord, nowMs: number): UpdateParts =>
  joinParts(registeredNow(nowMs), listed(user), markForCounting(user), {
    remove: [ATTR.unenrolledSince, 'enrolGroup', 'enrolUser'],
  });

/**
 * Registered and holding no authenticator from this write on: unenrolled since
 * `sinceSeconds` (if it held one until now) or since it already was. Its group in the
 * enrolment index follows `exempt`, which the write either sets or checks is unchanged.
 */
export function unenrolledParts(
  user: UserRecord,
  nowMs: number,
  exempt: { value: boolean; sets: boolean },
  sinceSeconds: number,
  lostLast: boolean,
): UpdateParts {
  const since = lostLast
    ? `${ATTR.unenrolledSince} = :since`
    : `${ATTR.unenrolledSince} = if_not_exists(${ATTR.unenrolledSince}, :since)`;
  return joinParts(registeredNow(nowMs), listed(user), markForCounting(user), {
    set: [
      since,
      'enrolGroup = :group',
      'enrolUser = :listUser',
      ...(exempt.sets ? [`${ATTR.exempt} = :exempt`] : []),
    ],
    // A registered user's item never expires with an abandoned setup.
    remove: [TTL_ATTRIBUTE],
    conditions: exempt.sets
      ? []
      : [
          exempt.value
            ? `${ATTR.exempt} = :exempt`
            : `(attribute_not_exists(${ATTR.exempt}) OR ${ATTR.exempt} = :exempt)`,
        ],
    values: {
      ':since': N(sinceSeconds),
      ':group': { S: enrolmentGroup(user.tenantId, exempt.value ? 'exempt' : 'unenrolled') },
      ':exempt': { BOOL: exempt.value },
    },
  });
}

/** Everything a removal takes: the authenticators, the pending enrolment, the codes, the counts. */
export const TWO_FACTOR_STATE = [
  ATTR.authenticators,
  ATTR.version,
  ATTR.legacyActive,
  ATTR.legacyStep,
  // The used step belongs to the authenticators that go (a removed user's item used to go whole).
  ATTR.stepStart,
  'lastStepToken',
  'pending',
  'recovery',
  'lastRecoveryToken',
  'lastRecoveryHash',
  'lastFailureToken',
  'failedAttempts',
  'consecutiveFailures',
  'failedAt',
  'lastVerifiedAt',
  'clockSkew',
  TTL_ATTRIBUTE,
];

/** What forgetting takes besides: the registration and the places in the listings. */
export const REGISTRATION_STATE = [
  ATTR.registeredAt,
  ATTR.unenrolledSince,
  ATTR.ownDueAt,
  ATTR.exempt,
  'listTenant',
  'listUser',
  'enrolGroup',
  'enrolUser',
];

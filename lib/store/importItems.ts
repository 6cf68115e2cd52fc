import type { Authenticator, UserRecord } from '../domain/user.ts';
import { N } from './items.ts';
import type { WriteResult, UserStore } from './port.ts';
import { TTL_ATTRIBUTE, userKey } from './table.ts';
import { composeUpdate, joinParts, resetFailures } from './conditions.ts';
import type { DynamoTable } from './dynamoTable.ts';
import { ATTR, userFromItem } from './userItem.ts';
import { setAuthenticators } from './userItems.ts';
import { enrolledParts } from './registration.ts';
import type { SecurityEvent } from '../domain/webhooks.ts';
import { userOutbox } from './outboxItems.ts';

/** What an import reads and writes: users in batches, an authenticator set as it was judged. */
export const importItems = (t: DynamoTable): Pick<UserStore, 'getUsers' | 'importAuthenticator'> => ({
  async getUsers(tenantId: string, userIds: string[]): Promise<UserRecord[]> {
    if (userIds.length === 0) return [];
    const found = await t.batchGet(userIds.map((userId) => userKey(tenantId, userId)));
    return (found.get(t.table) ?? []).flatMap((item) => userFromItem(item) ?? []);
  },

  async importAuthenticator(
    user: UserRecord,
    authenticator: Authenticator,
    nowMs: number,
    events: readonly SecurityEvent[] = [],
  ): Promise<WriteResult> {
    // As a confirmed reconfigure would, but with no recovery codes and no used step:
    // the panel it came from may have accepted any step.
    return t.updateUser(
      user,
      composeUpdate(
        joinParts(
          setAuthenticators(user, [authenticator], true),
          enrolledParts(user, nowMs),
          userOutbox(user, events),
          {
            set: resetFailures,
            remove: [
              'recovery',
              ATTR.stepStart,
              'lastStepToken',
              'lastRecoveryToken',
              'lastRecoveryHash',
              'clockSkew',
              TTL_ATTRIBUTE,
            ],
            values: { ':zero': N(0) },
          },
        ),
      ),
    );
  },
});

import { emptyUser, type ActiveEnrolment, type UserRecord } from '../domain/user.ts';
import { enrolmentToMap, N, userFromItem } from './items.ts';
import type { WriteResult, UserStore } from './port.ts';
import { TTL_ATTRIBUTE, userKey } from './table.ts';
import { activeIs, noActive, resetFailures } from './conditions.ts';
import type { DynamoTable } from './dynamoTable.ts';

/** What an import reads and writes: users in batches, an active authenticator set as it was judged. */
export const importItems = (t: DynamoTable): Pick<UserStore, 'getUsers' | 'importActive'> => ({
  async getUsers(tenantId: string, userIds: string[]): Promise<UserRecord[]> {
    if (userIds.length === 0) return [];
    const found = await t.batchGet(userIds.map((userId) => userKey(tenantId, userId)));
    return (found.get(t.table) ?? []).flatMap((item) => userFromItem(item) ?? []);
  },

  async importActive(
    tenantId: string,
    userId: string,
    active: ActiveEnrolment,
    expectActiveId: string | null,
  ): Promise<WriteResult> {
    return t.updateUser(emptyUser(tenantId, userId), {
      UpdateExpression: [
        `SET active = :active, ${resetFailures}, listTenant = :tenant, listUser = :user`,
        `REMOVE recovery, lastStep, lastStepToken, lastRecoveryToken, lastRecoveryHash, ${TTL_ATTRIBUTE}`,
      ].join(' '),
      ConditionExpression: expectActiveId === null ? noActive : activeIs,
      ExpressionAttributeValues: {
        ':active': enrolmentToMap(active),
        ':zero': N(0),
        ':tenant': { S: tenantId },
        ':user': { S: userId },
        ...(expectActiveId === null ? {} : { ':activeId': { S: expectActiveId } }),
      },
    });
  },
});

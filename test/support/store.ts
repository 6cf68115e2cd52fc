import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { localClientConfig } from '../../lib/local/embeddedStore.ts';
import { userKey } from '../../lib/store/table.ts';

/** Direct access to the service's table, for tests that must see or bend what is stored. */
export function rawStore(endpoint: string) {
  const db = new DynamoDBClient(localClientConfig(endpoint));
  const TableName = 'tfa-local';
  return {
    db,
    TableName,
    async user(tenantId: string, userId: string) {
      const out = await db.send(
        new GetItemCommand({ TableName, Key: userKey(tenantId, userId), ConsistentRead: true }),
      );
      return out.Item;
    },
    async setUser(tenantId: string, userId: string, update: string, values: Record<string, AttributeValue>) {
      await db.send(
        new UpdateItemCommand({
          TableName,
          Key: userKey(tenantId, userId),
          UpdateExpression: update,
          ExpressionAttributeValues: values,
        }),
      );
    },
  };
}

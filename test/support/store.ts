import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  ScanCommand,
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
    /** The whole table, in a stable order: what "stored data unchanged" is measured against. */
    async snapshot(): Promise<string> {
      const items: unknown[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await db.send(
          new ScanCommand({ TableName, ExclusiveStartKey: start, ConsistentRead: true }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
      const text = (value: unknown) =>
        JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
      return items.map(text).sort().join('\n');
    },
    async setUser(
      tenantId: string,
      userId: string,
      update: string,
      values: Record<string, AttributeValue>,
      names?: Record<string, string>,
    ) {
      await db.send(
        new UpdateItemCommand({
          TableName,
          Key: userKey(tenantId, userId),
          UpdateExpression: update,
          ExpressionAttributeValues: values,
          ...(names ? { ExpressionAttributeNames: names } : {}),
        }),
      );
    },
  };
}

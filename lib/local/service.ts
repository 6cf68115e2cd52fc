import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LocalKeyVault } from '../crypto/localKeyVault.ts';
import { type Deps, useDeps } from '../deps.ts';
import { checkOperatorKey } from '../crypto/operatorKey.ts';
import { ensureTable, startEmbeddedStore } from './embeddedStore.ts';
import { startHttpServer } from './httpServer.ts';
import { closeLocalQueues, localQueue } from '../queue/localQueue.ts';
import { readQueueConsumers, readRoutes, readScheduled } from './routes.ts';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface LocalOptions {
  /** Where the store and the key-encryption key live; undefined: the store is in memory (tests). */
  dataDir: string | undefined;
  port: number;
  operatorKey: string | undefined;
  /** An existing DynamoDB-compatible endpoint to share (several servers, one store); default: embedded. */
  storeEndpoint?: string | undefined;
  /** Where the local key-encryption key is, when dataDir is not set. */
  kekFile?: string | undefined;
  /** A KMS-compatible endpoint and key to use instead of the local key-encryption key. */
  kms?: { endpoint: string; keyId: string } | undefined;
  /** Per-attempt store timeout; default 10 s: the embedded store shares one event loop
   * with the server and queues under bursts, where DynamoDB (2 s in Lambda) would not. */
  storeTimeoutMs?: number | undefined;
  /** Every function's timeout, in place of serverless.yml's: tests starve requests of time with it. */
  functionTimeoutSeconds?: number | undefined;
}

const TABLE = 'tfa-local';

/**
 * What SQS does in AWS, in process: each message of a queue goes to the function
 * serverless.yml triggers from it, as an SQS event, and one that throws is delivered
 * again (lib/queue/localQueue.ts).
 */
async function consumeQueueInProcess(): Promise<() => void> {
  const unsubscribes: (() => void)[] = [];
  for (const consumer of readQueueConsumers(join(PROJECT_ROOT, 'serverless.yml'))) {
    const dot = consumer.handler.lastIndexOf('.');
    const module = (await import(
      pathToFileURL(join(PROJECT_ROOT, `${consumer.handler.slice(0, dot)}.ts`)).href
    )) as Record<string, (event: { Records: { body: string }[] }) => Promise<void>>;
    const handler = module[consumer.handler.slice(dot + 1)];
    if (typeof handler !== 'function') throw new Error(`${consumer.handler} is not a function`);
    const unsubscribe = localQueue(consumer.queue).subscribe(async (body) => {
      try {
        await handler({ Records: [{ body }] });
      } catch (error) {
        console.error(
          JSON.stringify({
            level: 'WARN',
            message: `${consumer.functionName} failed; retrying`,
            error: String(error),
          }),
        );
        throw error;
      }
    });
    unsubscribes.push(unsubscribe);
  }
  return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
}

/**
 * The scheduled functions of serverless.yml (the webhook dispatcher), run here every
 * `TFA_SCHEDULE_MS` (default 1 s) instead of every minute: the same handler as in AWS,
 * one run at a time. Answers a function that stops them and waits for a run in progress.
 */
async function runSchedulesInProcess(): Promise<() => Promise<void>> {
  const handlers: (() => Promise<unknown>)[] = [];
  for (const scheduled of readScheduled(join(PROJECT_ROOT, 'serverless.yml'))) {
    const dot = scheduled.handler.lastIndexOf('.');
    const module = (await import(
      pathToFileURL(join(PROJECT_ROOT, `${scheduled.handler.slice(0, dot)}.ts`)).href
    )) as Record<string, () => Promise<unknown>>;
    const handler = module[scheduled.handler.slice(dot + 1)];
    if (typeof handler !== 'function') throw new Error(`${scheduled.handler} is not a function`);
    handlers.push(handler);
  }
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = Promise.all(handlers.map((handler) => handler().catch(() => undefined))).finally(() => {
      if (!stopped) timer = setTimeout(tick, Number(process.env.TFA_SCHEDULE_MS ?? 1000));
    });
  };
  let timer = setTimeout(tick, Number(process.env.TFA_SCHEDULE_MS ?? 1000));
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}

/**
 * One local server per data folder: the embedded store's files cannot be shared, and a
 * second server on them would die deep inside the store ("Database is closed"). The
 * claim is a file naming the process; one left by a process that is gone is taken over.
 */
function claimDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'in-use.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) {
      throw new Error(
        `the data folder ${dataDir} is in use by another local server (process ${pid}): stop that one, or start this one with another folder in TFA_DATA_DIR`,
      );
    }
    rmSync(file, { force: true });
  }
  throw new Error(`cannot claim the data folder ${dataDir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Before listening: the table and the key vault must answer with the settings the
 * handlers will use (endpoint, region, credentials, table), or the start stops with
 * what is wrong; never a server that answers 503 to everything.
 */
async function checkStartup(deps: Deps, endpoint: string) {
  const env = process.env;
  const where = `the store at ${endpoint} (region ${env.AWS_REGION}, access key ${env.AWS_ACCESS_KEY_ID})`;
  const credentials = {
    accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
  };
  try {
    await ensureTable({ endpoint, region: env.AWS_REGION ?? 'local', credentials }, TABLE);
    await deps.store.checkReady();
  } catch (error) {
    throw new Error(`${where}: ${reason(error)}`, { cause: error });
  }
  try {
    const probe = await deps.vault.generateDataKey('startup-check');
    const opened = await deps.vault.unwrapDataKey('startup-check', probe.wrapped);
    const same = opened.equals(probe.plaintext);
    probe.plaintext.fill(0);
    opened.fill(0);
    if (!same) throw new Error('a data key did not come back as it went in');
  } catch (error) {
    throw new Error(`the key vault (${env.TFA_KEY_VAULT}) does not work: ${reason(error)}`, { cause: error });
  }
}

const reason = (error: unknown): string => {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message || cause.name : String(cause);
};

/**
 * The data directory holds every sealed secret and the key that opens them: it is
 * the owner's alone. An existing directory is tightened (0700, its files 0600), and
 * the process's umask keeps what the store writes later (LevelDB's new files) so too.
 */
function keepPrivate(dataDir: string) {
  process.umask(0o077);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tighten = (path: string) => {
    chmodSync(path, 0o700);
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) tighten(child);
      // The key file is left as it is: one readable by others is refused, not quietly fixed.
      else if (entry.isFile() && child !== join(dataDir, 'kek.key')) chmodSync(child, 0o600);
    }
  };
  tighten(dataDir);
}

/**
 * Local mode: the embedded store, the local key-encryption key in place of KMS,
 * and the HTTP server, wired through the same environment variables as in Lambda.
 * Returns the operator key it uses (generated when none was given).
 */
export async function startLocalService(options: LocalOptions) {
  if (options.operatorKey !== undefined) checkOperatorKey(options.operatorKey);
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
  if (dataDir) keepPrivate(dataDir);
  const kekFile = options.kekFile ?? (dataDir ? join(dataDir, 'kek.key') : undefined);
  if (!kekFile && !options.kms) throw new Error('local mode needs a data directory or a key file');
  // Made (or checked: owner-only) now, so that a key file others can read stops the start.
  if (kekFile && !options.kms) LocalKeyVault.fromFile(kekFile);

  const release = dataDir && !options.storeEndpoint ? claimDataDir(dataDir) : () => undefined;
  let store: { endpoint: string; close: () => Promise<void> };
  try {
    store = options.storeEndpoint
      ? { endpoint: options.storeEndpoint, close: async () => undefined }
      : await startEmbeddedStore(dataDir ? join(dataDir, 'dynamodb') : undefined);
  } catch (error) {
    release();
    throw error;
  }

  const operatorKey = options.operatorKey ?? `tfa-operator-${randomBytes(32).toString('base64url')}`;
  const vault = options.kms
    ? { TFA_KEY_VAULT: 'kms', TFA_KMS_KEY_ID: options.kms.keyId, AWS_ENDPOINT_URL_KMS: options.kms.endpoint }
    : { TFA_KEY_VAULT: 'local', TFA_LOCAL_KEK_FILE: kekFile };
  Object.assign(process.env, {
    TFA_LOCAL_MODE: '1',
    TFA_TABLE: TABLE,
    TFA_KEYS_TABLE: `${TABLE}-keys`,
    AWS_ENDPOINT_URL_DYNAMODB: store.endpoint,
    AWS_REGION: process.env.AWS_REGION ?? 'local',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    ...vault,
    TFA_OPERATOR_KEY: operatorKey,
    TFA_DYNAMODB_TIMEOUT_MS: String(options.storeTimeoutMs ?? process.env.TFA_DYNAMODB_TIMEOUT_MS ?? 10_000),
    // Lambda serves one request at a time; here hundreds share one connection pool, and
    // a request queued for a socket counts its wait as connecting: 1 s is too short.
    TFA_DYNAMODB_CONNECT_TIMEOUT_MS: process.env.TFA_DYNAMODB_CONNECT_TIMEOUT_MS ?? '5000',
    // No request is in flight for long here: the purge's last look need not wait 30 s.
    TFA_PURGE_SETTLE_SECONDS: process.env.TFA_PURGE_SETTLE_SECONDS ?? '1',
  });
  // The handlers' dependencies, built from the environment just set (a second local
  // service in one process, as in tests, must not keep the first one's store).
  const deps = useDeps({});
  try {
    await checkStartup(deps, store.endpoint);
  } catch (error) {
    await store.close();
    release();
    throw error;
  }
  const stopConsuming = await consumeQueueInProcess();
  const stopSchedules = await runSchedulesInProcess();
  const routes = readRoutes(join(PROJECT_ROOT, 'serverless.yml')).map((route) =>
    options.functionTimeoutSeconds === undefined
      ? route
      : { ...route, timeoutSeconds: options.functionTimeoutSeconds },
  );
  const http = await startHttpServer(routes, PROJECT_ROOT, options.port);
  return {
    url: http.url,
    storeEndpoint: store.endpoint,
    operatorKey,
    generatedOperatorKey: options.operatorKey === undefined,
    close: async () => {
      stopConsuming();
      await stopSchedules();
      closeLocalQueues();
      await http.close();
      await store.close();
      release();
    },
  };
}

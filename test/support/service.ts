import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { PROJECT_ROOT, startLocalService } from '../../lib/local/service.ts';
import type { RetryPolicy } from '../../client/retry.ts';
import { type Scope, tfaClient } from '../../client/tfaClient.ts';
import { checkResponse, contractFetch } from './contract.ts';
import { startFaultProxy } from './faultProxy.ts';
import { startTestStore } from './testStore.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/**
 * The real local service (embedded store, local key, HTTP server on 127.0.0.1)
 * for one test file; closed when the file's tests end. The store lives in a fresh
 * temporary directory, so every file starts from nothing.
 */
export async function startTestService(
  options: {
    kms?: { endpoint: string; keyId: string };
    storeTimeoutMs?: number;
    functionTimeoutSeconds?: number;
  } = {},
) {
  const logs = captureOutput();
  // The webhook dispatcher polls the store every second in local mode: tests that count
  // a request's store calls must not see its calls, so it runs only in the tests that
  // deliver (they set TFA_SCHEDULE_MS before starting the service).
  process.env.TFA_SCHEDULE_MS ??= String(24 * 3_600_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'tfa-test-'));
  // The store is reached through a proxy that can inject faults on the wire; with no
  // fault rule it passes every request through untouched.
  const store = await startTestStore();
  const storeProxy = await startFaultProxy(store.endpoint);
  const service = await startLocalService({
    dataDir,
    port: 0,
    operatorKey: 'test-operator-key-0123456789abcdef',
    storeEndpoint: storeProxy.url,
    kms: options.kms,
    storeTimeoutMs: options.storeTimeoutMs,
    functionTimeoutSeconds: options.functionTimeoutSeconds,
  });
  // The service first: its scheduled dispatcher calls the store every second, and a store
  // closed under it would wait for those connections to end.
  after(async () => {
    await service.close();
    await store.close();
  });
  // storeEndpoint: the store itself, for tests that read or bend it directly.
  return {
    ...service,
    storeEndpoint: store.endpoint,
    storeProxy,
    dataDir,
    logs,
    client: new ApiClient(service.url),
  };
}

/**
 * A second server process on the same store and key-encryption key as `service`:
 * races then cross processes, as they cross Lambda containers. Stopped when the
 * file's tests end.
 */
export async function startSecondServer(
  service: {
    dataDir: string;
    storeEndpoint: string;
    operatorKey: string;
  },
  /** `storeEndpoint`: another way to the store (the fault proxy's); `env`: more variables. */
  options: { storeEndpoint?: string; env?: Record<string, string> } = {},
) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/local/start.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      PORT: '0',
      TFA_DATA_DIR: service.dataDir,
      TFA_STORE_ENDPOINT: options.storeEndpoint ?? service.storeEndpoint,
      TFA_OPERATOR_KEY: service.operatorKey,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`second server exited with ${code}`)));
  });
  // The process too: a test may kill it mid-request, as Lambda loses a container.
  return Object.assign(new ApiClient(url), { process: child });
}

/**
 * Everything this process writes to stdout and stderr from now on: the handlers run
 * in this process, so this is every log line they write. The service's own JSON
 * lines (logs, EMF metrics) are kept for the tests to read but not echoed, unless
 * TFA_TEST_SHOW_LOGS=1; everything else passes through.
 */
function captureOutput(): () => string {
  const lines: string[] = [];
  const show = process.env.TFA_TEST_SHOW_LOGS === '1';
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      lines.push(text);
      if (!show && /^\{"(level|_aws)"/.test(text)) return true;
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
  return () => lines.join('');
}

// Replies are read as the contract says they are, and every one is held to openapi.yaml
// (test/support/contract.ts) before a test sees it.
export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export class ApiClient {
  constructor(readonly url: string) {}

  async call<T = any>(
    method: string,
    path: string,
    options: {
      key?: string;
      body?: unknown;
      rawBody?: string | Buffer;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    // The path as sent: fetch resolves `.` and `..` segments.
    checkResponse(method, new URL(response.url).pathname, response.status, response.headers, parsed, text);
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  /** The typed client (client/) on this service, its answers held to openapi.yaml. */
  typed(key?: string, retry: Partial<RetryPolicy> = { retries: 0 }) {
    return tfaClient({ url: this.url, key, retry, fetch: contractFetch });
  }

  /** A new tenant and its bootstrap admin key. */
  async tenant(operatorKey: string, tenantId: string, issuer?: string) {
    const created = await this.typed(operatorKey).tenants.create(
      issuer === undefined ? { tenantId } : { tenantId, issuer },
    );
    return created.apiKey.secret;
  }

  async key(adminKey: string, scopes: Scope[], name = scopes.join('+')) {
    return (await this.typed(adminKey).keys.create({ name, scopes })).secret;
  }
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { boundedRequests } from './awsClients.ts';

import type { KeyVault } from './crypto/keyVault.ts';
import { KmsKeyVault } from './crypto/kmsKeyVault.ts';
import { LocalKeyVault } from './crypto/localKeyVault.ts';
import { TenantKeyring } from './crypto/tenantKeys.ts';
import { AuditLog } from './observability/auditLog.ts';
import { type AwsCallObserver, observeAwsCalls } from './observability/awsCalls.ts';
import {
  fixedOperatorKey,
  type OperatorKeySource,
  operatorHashFromEnvironment,
  SsmOperatorKey,
} from './crypto/operatorKey.ts';
import { logger } from './observability/logger.ts';
import { type Counters, powertoolsCounters, powertoolsMetrics } from './observability/metrics.ts';
import { localPurgeQueue } from './queue/localQueue.ts';
import type { PurgeQueue } from './queue/port.ts';
import { SqsPurgeQueue } from './queue/sqsQueue.ts';
import { DynamoTable, dynamoStore } from './store/dynamoStore.ts';
import type { Store } from './store/port.ts';
import type { OutboundOptions } from './webhooks/sender.ts';
import { RETRY_SECONDS } from './domain/webhooks.ts';

/** Everything a use case needs from the outside world, built once per cold start. */
export interface Deps {
  store: Store;
  vault: KeyVault;
  keyring: TenantKeyring;
  audit: AuditLog;
  counters: Counters;
  now: () => number;
  /** The operator key's hash: from the environment locally, from SSM in AWS. */
  operatorKey: OperatorKeySource;
  /** Carries a deleted tenant's purge: SQS in AWS, in process locally. */
  purgeQueue: PurgeQueue;
  /** How long a purge waits, once nothing is left, before its last look. */
  purgeSettleSeconds: number;
  /** How webhook endpoints are reached (lib/webhooks/sender.ts). */
  outbound: OutboundOptions;
  /** Seconds before each retry of a failed delivery (lib/domain/webhooks.ts). */
  webhookRetrySeconds: readonly number[];
}

export interface DepsOptions {
  /** Which table, key vault, endpoints and limits (docs/operations.md, Configuration). */
  env: NodeJS.ProcessEnv;
  /**
   * The one seam: parts to use in place of those the environment names, before the
   * rest is built on them (a clock that the keyring and audit trail share, say).
   * Tests and the benchmark use it; Lambda never does.
   */
  use?: Partial<Pick<Deps, 'now' | 'store' | 'vault' | 'counters' | 'operatorKey' | 'purgeQueue'>>;
  /** Called for every AWS call the clients make: the benchmark counts round trips with it. */
  observeAwsCalls?: AwsCallObserver;
}

let built: Deps | undefined;

/** The dependencies every handler uses: built from the environment on first use. */
export function deps(): Deps {
  built ??= buildDeps({ env: process.env });
  return built;
}

/**
 * The dependencies as one request uses them: its store calls (and so its audit
 * writes) carry the request's deadline, and none starts once `signal` has aborted.
 */
export function forRequest(deps: Deps, signal: AbortSignal): Deps {
  const store = deps.store.within(signal);
  return { ...deps, store, audit: deps.audit.onStore(store) };
}

/**
 * Rebuilds the handlers' dependencies from the environment, with `options.use` in
 * place (the seam above); local mode calls it once it has set the environment.
 */
export function useDeps(options: Omit<DepsOptions, 'env'>): Deps {
  built = buildDeps({ env: process.env, ...options });
  return built;
}

/**
 * The composition root. The same code runs in Lambda and in local mode; only the
 * environment differs (see docs/operations.md, Configuration).
 */
export function buildDeps({ env, use = {}, observeAwsCalls: observer }: DepsOptions): Deps {
  const register = (client: Parameters<typeof observeAwsCalls>[0]) => {
    if (observer) observeAwsCalls(client, observer);
  };
  const now = use.now ?? (() => Date.now());
  const counters = use.counters ?? powertoolsCounters(powertoolsMetrics());
  const store = use.store ?? storeFromEnvironment(env, register);
  const vault =
    use.vault ??
    (env.TFA_KEY_VAULT === 'local'
      ? LocalKeyVault.fromFile(required(env, 'TFA_LOCAL_KEK_FILE'))
      : new KmsKeyVault(
          required(env, 'TFA_KMS_KEY_ID'),
          { ...(env.AWS_ENDPOINT_URL_KMS ? { endpoint: env.AWS_ENDPOINT_URL_KMS } : {}) },
          register,
        ));
  const operatorKey =
    use.operatorKey ??
    (env.TFA_OPERATOR_KEY_PARAMETER
      ? new SsmOperatorKey(
          env.TFA_OPERATOR_KEY_PARAMETER,
          now,
          { ...(env.AWS_ENDPOINT_URL_SSM ? { endpoint: env.AWS_ENDPOINT_URL_SSM } : {}) },
          undefined,
          register,
        )
      : fixedOperatorKey(operatorHashFromEnvironment(env)));
  const purgeQueue =
    use.purgeQueue ??
    (env.TFA_PURGE_QUEUE_URL
      ? new SqsPurgeQueue(
          env.TFA_PURGE_QUEUE_URL,
          { ...(env.AWS_ENDPOINT_URL_SQS ? { endpoint: env.AWS_ENDPOINT_URL_SQS } : {}) },
          register,
        )
      : localPurgeQueue);
  return {
    store,
    vault,
    purgeQueue,
    purgeSettleSeconds: Number(env.TFA_PURGE_SETTLE_SECONDS ?? 30),
    outbound: {
      // Loopback receivers are for testing on one machine: local mode only, never in AWS.
      allowLoopback: env.TFA_LOCAL_MODE === '1' && env.TFA_WEBHOOK_ALLOW_LOOPBACK === '1',
      ...(env.TFA_DNS_SERVERS ? { dnsServers: env.TFA_DNS_SERVERS.split(',') } : {}),
    },
    webhookRetrySeconds: retrySchedule(env),
    // The cache ages on this process's monotonic clock, not the service's clock: how
    // long a plaintext data key has been held is a matter of process time, and a moved
    // business clock (a test's, the benchmark's accelerated one) must not age it.
    keyring: new TenantKeyring(
      vault,
      () => performance.now(),
      undefined,
      (hit) => counters.count(hit ? 'DataKeyCacheHit' : 'DataKeyCacheMiss'),
    ),
    audit: new AuditLog(store, counters, logger, Number(env.TFA_AUDIT_RETENTION_DAYS ?? 400)),
    counters,
    now,
    operatorKey,
  };
}

function storeFromEnvironment(env: NodeJS.ProcessEnv, register: (client: DynamoDBClient) => void): Store {
  const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB;
  const db = new DynamoDBClient({
    ...(endpoint ? { endpoint } : {}),
    maxAttempts: 3,
    requestHandler: boundedRequests(
      Number(env.TFA_DYNAMODB_TIMEOUT_MS ?? 2000),
      Number(env.TFA_DYNAMODB_CONNECT_TIMEOUT_MS ?? 1000),
    ),
  });
  register(db);
  return dynamoStore(new DynamoTable(db, required(env, 'TFA_TABLE'), required(env, 'TFA_KEYS_TABLE')));
}

/** The contract's retry schedule; local mode may replace it (`TFA_WEBHOOK_RETRY_SECONDS=1,2,4`), for tests. */
function retrySchedule(env: NodeJS.ProcessEnv): readonly number[] {
  const text = env.TFA_LOCAL_MODE === '1' ? env.TFA_WEBHOOK_RETRY_SECONDS : undefined;
  if (!text) return RETRY_SECONDS;
  const seconds = text.split(',').map(Number);
  if (!seconds.every((s) => Number.isFinite(s) && s >= 0)) {
    throw new Error('TFA_WEBHOOK_RETRY_SECONDS must be seconds separated by commas, e.g. 1,2,4');
  }
  return seconds;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

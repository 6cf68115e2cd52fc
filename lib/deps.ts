import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import type { KeyVault } from './crypto/keyVault.ts';
import { KmsKeyVault } from './crypto/kmsKeyVault.ts';
import { LocalKeyVault } from './crypto/localKeyVault.ts';
import { TenantKeyring } from './crypto/tenantKeys.ts';
import { AuditLog } from './observability/auditLog.ts';
import { AwsCalls } from './observability/awsCalls.ts';
import {
  fixedOperatorKey,
  type OperatorKeySource,
  operatorHashFromEnvironment,
  SsmOperatorKey,
} from './crypto/operatorKey.ts';
import { logger } from './observability/logger.ts';
import { type Counters, powertoolsCounters, powertoolsMetrics } from './observability/metrics.ts';
import { DynamoStore } from './store/dynamoStore.ts';
import type { Store } from './store/port.ts';

/** Everything a use case needs from the outside world, built once per cold start. */
export interface Deps {
  store: Store;
  vault: KeyVault;
  keyring: TenantKeyring;
  audit: AuditLog;
  counters: Counters;
  now: () => number;
  /** Every AWS call the clients make, for those who want to count them (the benchmark). */
  awsCalls: AwsCalls;
  /** The operator key's hash: from the environment locally, from SSM in AWS. */
  operatorKey: OperatorKeySource;
}

let built: Deps | undefined;

export function deps(): Deps {
  built ??= depsFromEnvironment(process.env);
  return built;
}

/**
 * The composition root. The same code runs in Lambda and in local mode; only the
 * environment differs (see README "Configuration").
 */
export function depsFromEnvironment(env: NodeJS.ProcessEnv): Deps {
  const table = required(env, 'TFA_TABLE');
  const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB;
  // Bounded time per attempt and few attempts: a login must not hang on a slow store.
  const db = new DynamoDBClient({
    ...(endpoint ? { endpoint } : {}),
    maxAttempts: 3,
    // throwOnRequestTimeout: without it the handler only logs a warning and keeps waiting.
    requestHandler: {
      connectionTimeout: 1000,
      requestTimeout: Number(env.TFA_DYNAMODB_TIMEOUT_MS ?? 2000),
      throwOnRequestTimeout: true,
    },
  });
  const awsCalls = new AwsCalls();
  awsCalls.register(db);
  const vault: KeyVault =
    env.TFA_KEY_VAULT === 'local'
      ? LocalKeyVault.fromFile(required(env, 'TFA_LOCAL_KEK_FILE'))
      : new KmsKeyVault(
          required(env, 'TFA_KMS_KEY_ID'),
          { ...(env.AWS_ENDPOINT_URL_KMS ? { endpoint: env.AWS_ENDPOINT_URL_KMS } : {}) },
          awsCalls.register,
        );
  const now = () => Date.now();
  const store = new DynamoStore(db, table);
  const counters = powertoolsCounters(powertoolsMetrics());
  return {
    store,
    vault,
    keyring: new TenantKeyring(vault, now, undefined, (hit) =>
      counters.count(hit ? 'DataKeyCacheHit' : 'DataKeyCacheMiss'),
    ),
    audit: new AuditLog(store, counters, logger, Number(env.TFA_AUDIT_RETENTION_DAYS ?? 400)),
    counters,
    now,
    awsCalls,
    operatorKey: env.TFA_OPERATOR_KEY_PARAMETER
      ? new SsmOperatorKey(
          env.TFA_OPERATOR_KEY_PARAMETER,
          now,
          { ...(env.AWS_ENDPOINT_URL_SSM ? { endpoint: env.AWS_ENDPOINT_URL_SSM } : {}) },
          undefined,
          awsCalls.register,
        )
      : fixedOperatorKey(operatorHashFromEnvironment(env)),
  };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

import type * as Ssm from '@aws-sdk/client-ssm';
import { boundedRequests, lazyClient } from '../awsClients.ts';
import { parseApiKey } from './apiKeys.ts';
import { sha256 } from './hashes.ts';

/** Where the SHA-256 of the operator key comes from: the environment (local) or SSM (AWS). */
export interface OperatorKeySource {
  /** The expected hash, or undefined when no operator key is configured. */
  hash(): Promise<Buffer | undefined>;
}

export const fixedOperatorKey = (hash: Buffer | undefined): OperatorKeySource => ({ hash: async () => hash });

/** The shortest operator key accepted: it guards every tenant, so it must not be guessable. */
export const OPERATOR_KEY_MIN_LENGTH = 32;

/**
 * Refuses an operator key that is too short to be safe, or shaped like a tenant key
 * (`tfa.<tenant>.<id>.<secret>`), which would be read as one and never reach the
 * operator's routes. Local mode checks it before it starts.
 */
export function checkOperatorKey(key: string): void {
  if (key.length < OPERATOR_KEY_MIN_LENGTH) {
    throw new Error(`the operator key must be at least ${OPERATOR_KEY_MIN_LENGTH} characters`);
  }
  if (parseApiKey(key) !== undefined || key.startsWith('tfa.')) {
    throw new Error('the operator key must not look like a tenant key (tfa.<tenant>.<id>.<secret>)');
  }
}

/** TFA_OPERATOR_KEY_HASH (hex) or TFA_OPERATOR_KEY; undefined when neither is set. */
export function operatorHashFromEnvironment(env: NodeJS.ProcessEnv): Buffer | undefined {
  const hash = env.TFA_OPERATOR_KEY_HASH;
  if (hash && /^[0-9a-f]{64}$/i.test(hash)) return Buffer.from(hash, 'hex');
  if (env.TFA_OPERATOR_KEY) {
    checkOperatorKey(env.TFA_OPERATOR_KEY);
    return sha256(env.TFA_OPERATOR_KEY);
  }
  return undefined;
}

/**
 * The hash kept in an SSM SecureString parameter, read at run time (CloudFormation
 * cannot put a SecureString into a Lambda environment) and kept for `maxAgeMs`, so
 * a rotated operator key takes effect within minutes and SSM sees at most one call
 * per container in that time. The SDK is imported on first use only: a request
 * with a tenant key never gets here.
 */
export class SsmOperatorKey implements OperatorKeySource {
  private cached: { hash: Buffer | undefined; until: number } | undefined;
  private readonly connect: () => Promise<{ sdk: typeof Ssm; client: Ssm.SSMClient }>;

  constructor(
    private readonly parameterName: string,
    private readonly now: () => number,
    config: { endpoint?: string; region?: string } = {},
    private readonly maxAgeMs = 5 * 60_000,
    onClient: (client: Ssm.SSMClient) => void = () => undefined,
  ) {
    this.connect = lazyClient(
      () => import('@aws-sdk/client-ssm'),
      (sdk) => new sdk.SSMClient({ ...config, maxAttempts: 2, requestHandler: boundedRequests(2000) }),
      onClient,
    );
  }

  async hash(): Promise<Buffer | undefined> {
    if (this.cached && this.cached.until > this.now()) return this.cached.hash;
    const { client, sdk } = await this.connect();
    let value: string | undefined;
    try {
      const out = await client.send(
        new sdk.GetParameterCommand({ Name: this.parameterName, WithDecryption: true }),
      );
      value = out.Parameter?.Value?.trim();
    } catch (error) {
      if (!(error instanceof sdk.ParameterNotFound)) throw error;
    }
    const hash = value && /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : undefined;
    this.cached = { hash, until: this.now() + this.maxAgeMs };
    return hash;
  }
}

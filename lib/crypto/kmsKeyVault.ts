import type * as Kms from '@aws-sdk/client-kms';
import { boundedRequests, lazyClient } from '../awsClients.ts';
import { serviceUnavailable } from '../errors.ts';
import type { KeyVault } from './keyVault.ts';

/**
 * AWS KMS behind the KeyVault port. The SDK is imported on first use, so a warm
 * verify (data key cached) never loads it and a cold verify pays for it only on
 * a cache miss. Every failure becomes 503: KMS trouble is never a wrong answer.
 */
export class KmsKeyVault implements KeyVault {
  private readonly connect: () => Promise<{ sdk: typeof Kms; client: Kms.KMSClient }>;

  constructor(
    private readonly keyId: string,
    clientConfig: {
      endpoint?: string;
      region?: string;
      maxAttempts?: number;
      requestTimeoutMs?: number;
    } = {},
    onClient: (client: Kms.KMSClient) => void = () => undefined,
  ) {
    const { requestTimeoutMs = 2000, maxAttempts = 3, ...config } = clientConfig;
    // Bounded time per attempt and few attempts: a slow KMS fails closed quickly.
    this.connect = lazyClient(
      () => import('@aws-sdk/client-kms'),
      (sdk) =>
        new sdk.KMSClient({ ...config, maxAttempts, requestHandler: boundedRequests(requestTimeoutMs) }),
      onClient,
    );
  }

  async generateDataKey(tenantId: string) {
    const { client, sdk } = await this.connect();
    const out = await call(() =>
      client.send(
        new sdk.GenerateDataKeyCommand({
          KeyId: this.keyId,
          KeySpec: 'AES_256',
          EncryptionContext: { tenant: tenantId },
        }),
      ),
    );
    if (!out.Plaintext || !out.CiphertextBlob) throw serviceUnavailable('the key service');
    return { plaintext: Buffer.from(out.Plaintext), wrapped: Buffer.from(out.CiphertextBlob) };
  }

  async unwrapDataKey(tenantId: string, wrapped: Uint8Array) {
    const { client, sdk } = await this.connect();
    const out = await call(() =>
      client.send(
        new sdk.DecryptCommand({
          KeyId: this.keyId,
          CiphertextBlob: wrapped,
          EncryptionContext: { tenant: tenantId },
        }),
      ),
    );
    if (!out.Plaintext) throw serviceUnavailable('the key service');
    return Buffer.from(out.Plaintext);
  }
}

async function call<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw serviceUnavailable('the key service', error);
  }
}

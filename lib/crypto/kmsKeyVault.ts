import type * as Kms from '@aws-sdk/client-kms';
import { boundedRequests } from '../awsClients.ts';
import { serviceUnavailable } from '../errors.ts';
import type { KeyVault } from './keyVault.ts';

/**
 * AWS KMS behind the KeyVault port. The SDK is imported on first use, so a warm
 * verify (data key cached) never loads it and a cold verify pays for it only on
 * a cache miss. Every failure becomes 503: KMS trouble is never a wrong answer.
 */
export class KmsKeyVault implements KeyVault {
  private client: Promise<{ client: Kms.KMSClient; sdk: typeof Kms }> | undefined;

  constructor(
    private readonly keyId: string,
    private readonly clientConfig: {
      endpoint?: string;
      region?: string;
      maxAttempts?: number;
      requestTimeoutMs?: number;
    } = {},
    private readonly onClient: (client: Kms.KMSClient) => void = () => undefined,
  ) {}

  private connect() {
    const { requestTimeoutMs = 2000, maxAttempts = 3, ...config } = this.clientConfig;
    // Bounded time per attempt and few attempts: a slow KMS fails closed quickly.
    this.client ??= import('@aws-sdk/client-kms').then((sdk) => {
      const client = new sdk.KMSClient({
        ...config,
        maxAttempts,
        requestHandler: boundedRequests(requestTimeoutMs),
      });
      this.onClient(client);
      return { sdk, client };
    });
    return this.client;
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

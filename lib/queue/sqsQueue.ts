import type * as Sqs from '@aws-sdk/client-sqs';
import { boundedRequests, lazyClient } from '../awsClients.ts';
import { serviceUnavailable } from '../errors.ts';
import type { PurgeJob, PurgeQueue } from './port.ts';

/**
 * The purge queue on SQS. The SDK is imported on first use: only a tenant's
 * deletion and the purge function itself ever send.
 */
export class SqsPurgeQueue implements PurgeQueue {
  private readonly connect: () => Promise<{ sdk: typeof Sqs; client: Sqs.SQSClient }>;

  constructor(
    private readonly queueUrl: string,
    config: { endpoint?: string; region?: string } = {},
    onClient: (client: Sqs.SQSClient) => void = () => undefined,
  ) {
    this.connect = lazyClient(
      () => import('@aws-sdk/client-sqs'),
      (sdk) => new sdk.SQSClient({ ...config, maxAttempts: 3, requestHandler: boundedRequests(2000) }),
      onClient,
    );
  }

  async enqueue(job: PurgeJob, delaySeconds = 0): Promise<void> {
    const { client, sdk } = await this.connect();
    try {
      await client.send(
        new sdk.SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: JSON.stringify(job),
          DelaySeconds: Math.min(900, delaySeconds),
        }),
      );
    } catch (error) {
      throw serviceUnavailable('the purge queue', error);
    }
  }
}

import type * as Sqs from '@aws-sdk/client-sqs';
import { boundedRequests } from '../awsClients.ts';
import { serviceUnavailable } from '../errors.ts';
import type { PurgeJob, PurgeQueue } from './port.ts';

/**
 * The purge queue on SQS. The SDK is imported on first use: only a tenant's
 * deletion and the purge function itself ever send.
 */
export class SqsPurgeQueue implements PurgeQueue {
  private client: Promise<{ client: Sqs.SQSClient; sdk: typeof Sqs }> | undefined;

  constructor(
    private readonly queueUrl: string,
    private readonly config: { endpoint?: string; region?: string } = {},
    private readonly onClient: (client: Sqs.SQSClient) => void = () => undefined,
  ) {}

  async enqueue(job: PurgeJob, delaySeconds = 0): Promise<void> {
    this.client ??= import('@aws-sdk/client-sqs').then((sdk) => {
      const client = new sdk.SQSClient({
        ...this.config,
        maxAttempts: 3,
        requestHandler: boundedRequests(2000),
      });
      this.onClient(client);
      return { sdk, client };
    });
    const { client, sdk } = await this.client;
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

import type { SQSEvent } from 'aws-lambda';
import { deps } from '../lib/deps.ts';
import { parsePurgeJob } from '../lib/queue/port.ts';
import { purgeStep } from '../lib/usecases/purge.ts';

// The purge queue's consumer: one step of a deleted tenant's purge per message. A
// step that throws is delivered again by SQS, and resumes from what is left.
export const handler = async (event: SQSEvent): Promise<void> => {
  for (const record of event.Records) await purgeStep(deps(), parsePurgeJob(record.body));
};

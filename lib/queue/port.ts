/**
 * The queue that carries a deleted tenant's purge, step by step, in the background:
 * SQS in AWS (a purge function consumes it), an in-process stand-in in local mode
 * that hands each message to the same purge handler.
 */
export interface PurgeJob {
  tenantId: string;
  /** The last look: nothing was left at the previous step; finish if nothing is left now. */
  settle?: boolean;
}

export interface PurgeQueue {
  enqueue(job: PurgeJob, delaySeconds?: number): Promise<void>;
}

/** A message's body as a job; anything else is refused, never guessed at. */
export function parsePurgeJob(body: string): PurgeJob {
  const job = JSON.parse(body) as { tenantId?: unknown; settle?: unknown };
  if (typeof job.tenantId !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(job.tenantId)) {
    throw new Error('a purge message without a valid tenantId');
  }
  return { tenantId: job.tenantId, ...(job.settle === true ? { settle: true } : {}) };
}

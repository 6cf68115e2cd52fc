import type { PurgeJob, PurgeQueue } from './port.ts';

type Consumer = (body: string) => Promise<void>;

/**
 * Local mode's stand-in for one SQS queue, in process: a message is handed, after its
 * delay, to one of the consumers subscribed to it (in turn, as SQS spreads messages
 * over its pollers). A consumer that throws gets the message again a second later, as
 * SQS redelivers after the visibility timeout: so a purge stopped half-way resumes.
 * A message sent before any consumer subscribes waits for one.
 */
export class LocalQueue {
  private readonly consumers: Consumer[] = [];
  private next = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Adds a consumer; the function returned removes it. */
  subscribe(consumer: Consumer): () => void {
    this.consumers.push(consumer);
    return () => {
      const at = this.consumers.indexOf(consumer);
      if (at >= 0) this.consumers.splice(at, 1);
    };
  }

  send(body: string, delaySeconds = 0): void {
    this.deliver(body, delaySeconds * 1000);
  }

  private deliver(body: string, delayMs: number) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.consumers.length === 0) return this.deliver(body, 1000);
      const consumer = this.consumers[this.next++ % this.consumers.length] as Consumer;
      consumer(body).catch(() => this.deliver(body, 1000));
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  /** Drops what is still waiting (local mode stopping). */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/**
 * This process's local queues, by the name of the queue resource in serverless.yml
 * (`PurgeQueue`): the handlers send to them, local mode subscribes each function that
 * serverless.yml triggers from a queue to that queue.
 */
const queues = new Map<string, LocalQueue>();

export function localQueue(name: string): LocalQueue {
  let queue = queues.get(name);
  if (!queue) queues.set(name, (queue = new LocalQueue()));
  return queue;
}

export function closeLocalQueues(): void {
  for (const queue of queues.values()) queue.close();
}

/** The purge queue on its local stand-in. */
export const localPurgeQueue: PurgeQueue = {
  enqueue: async (job: PurgeJob, delaySeconds = 0) =>
    localQueue('PurgeQueue').send(JSON.stringify(job), delaySeconds),
};

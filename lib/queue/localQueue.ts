import type { PurgeJob, PurgeQueue } from './port.ts';

type Consumer = (body: string) => Promise<void>;

/**
 * Local mode's stand-in for SQS, in process: a message is handed, after its delay, to
 * the consumer local mode subscribed (the purge function's own handler, as SQS would
 * invoke it). A consumer that throws gets the message again a second later, as SQS
 * redelivers after the visibility timeout: so a purge stopped half-way resumes.
 */
export class LocalPurgeQueue implements PurgeQueue {
  private consumer: Consumer | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  subscribe(consumer: Consumer): void {
    this.consumer = consumer;
  }

  async enqueue(job: PurgeJob, delaySeconds = 0): Promise<void> {
    this.deliver(JSON.stringify(job), delaySeconds * 1000);
  }

  private deliver(body: string, delayMs: number) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const consumer = this.consumer;
      if (!consumer) return this.deliver(body, 1000);
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

/** The one local queue of this process, shared by the handlers and local mode's consumer. */
export const localPurgeQueue = new LocalPurgeQueue();

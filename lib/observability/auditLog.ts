import type { Logger } from '@aws-lambda-powertools/logger';
import { type AuditEvent, auditView } from '../domain/audit.ts';
import type { Store } from '../store/port.ts';
import type { Counters } from './metrics.ts';

/**
 * Writes audit events. A failed write never changes the answer of the action it
 * describes, which has already happened: it is logged as an error, with the whole
 * event so that it can be recovered from the logs, and counted in AuditWriteFailed.
 */
export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly counters: Counters,
    private readonly log: () => Logger,
    private readonly retentionDays: number,
  ) {}

  /** The same trail, written through `store` (one request's view of it). */
  onStore(store: Store): AuditLog {
    return new AuditLog(store, this.counters, this.log, this.retentionDays);
  }

  /**
   * Writes those of `events` (each with an `eventId`) that are not written yet: what
   * a crash between a change and its event left undone. Reads in batches, writes only
   * what is missing.
   */
  async recordMissing(events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.recordAll(await this.store.unwrittenAuditEvents(events));
  }

  async record(event: AuditEvent): Promise<void> {
    try {
      await this.store.putAuditEvent(event, this.expiry(event));
    } catch (error) {
      this.failed([event], error);
    }
  }

  /** Events with ids of their own (an import's), in batches: one call per 25. */
  async recordAll(events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.store.putAuditEventsOnce(
        events.map((event) => ({ event, expiresAtSeconds: this.expiry(event) })),
      );
    } catch (error) {
      this.failed(events, error);
    }
  }

  private expiry(event: AuditEvent) {
    return Math.ceil(event.at / 1000) + this.retentionDays * 86_400;
  }

  private failed(events: AuditEvent[], error: unknown) {
    this.counters.count('AuditWriteFailed', events.length);
    const cause =
      error instanceof Error
        ? { name: error.name, message: error.message, stack: error.stack }
        : String(error);
    for (const event of events)
      this.log().error('audit write failed', { cause, auditEvent: auditView(event) });
  }
}

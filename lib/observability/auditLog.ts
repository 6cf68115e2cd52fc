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

  async record(event: AuditEvent): Promise<void> {
    try {
      await this.store.putAuditEvent(event, Math.ceil(event.at / 1000) + this.retentionDays * 86_400);
    } catch (error) {
      this.counters.count('AuditWriteFailed');
      const cause =
        error instanceof Error
          ? { name: error.name, message: error.message, stack: error.stack }
          : String(error);
      this.log().error('audit write failed', { cause, auditEvent: auditView(event) });
    }
  }
}

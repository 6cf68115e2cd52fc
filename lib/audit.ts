import { decodeCursor, encodeCursor } from './cursors.ts';
import { isUserId } from './domain/identifiers.ts';
import { invalidUserId } from './errors.ts';
import type { TenantContext } from './context.ts';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Counters } from './observability/metrics.ts';
import type { AuditPosition, Store } from './store/port.ts';
import { parseLimit } from './http/fields.ts';

export type AuditAction =
  | 'setup'
  | 'confirm'
  | 'verify'
  | 'remove'
  | 'recovery_codes'
  | 'unlock'
  | 'lockout'
  | 'settings'
  | 'key_create'
  | 'key_delete';

/** What a use case says happened. Never a secret or a code: only names, ids and outcomes. */
export interface AuditEntry {
  action: AuditAction;
  userId?: string;
  /** `success`, or why not: `invalid_code`, `replayed`, `locked`, `disabled`, `not_found`. */
  outcome: string;
  reason?: string;
}

export interface AuditEvent extends AuditEntry {
  tenantId: string;
  at: number;
  actor: { keyId: string; name: string };
  requestId: string;
}

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

export const auditView = (event: AuditEvent) => ({
  at: new Date(event.at).toISOString(),
  action: event.action,
  userId: event.userId ?? null,
  actor: event.actor,
  outcome: event.outcome,
  ...(event.reason === undefined ? {} : { reason: event.reason }),
  requestId: event.requestId,
});

/** GET /v1/audit: newest first, for the tenant or one user, with tenant-bound cursors. */
export async function listAudit(ctx: TenantContext, query: Record<string, string | undefined>) {
  const { deps, tenant } = ctx;
  const limit = parseLimit(query.limit);
  const userId = query.userId;
  if (userId !== undefined && !isUserId(userId)) {
    throw invalidUserId();
  }
  const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  // The filter is part of the listing's name: a cursor of one filter is no good for another.
  const list = `audit:${userId ?? '*'}`;
  const after =
    query.cursor === undefined
      ? undefined
      : (JSON.parse(decodeCursor(keys.cursors, tenant.tenantId, list, query.cursor)) as AuditPosition);
  const page = await deps.store.listAuditEvents(tenant.tenantId, userId, after, limit);
  return {
    events: page.events.map(auditView),
    nextCursor: page.next
      ? encodeCursor(keys.cursors, tenant.tenantId, list, JSON.stringify(page.next))
      : null,
  };
}

import { decodeCursor, encodeCursor } from '../crypto/cursors.ts';
import { auditView } from '../domain/audit.ts';
import type { AuditPosition } from '../store/port.ts';
import type { TenantContext } from './context.ts';

export interface AuditQuery {
  limit: number;
  /** One user's history; undefined for the whole tenant's. */
  userId: string | undefined;
  cursor: string | undefined;
}

/** GET /v1/audit: newest first, for the tenant or one user, with tenant-bound cursors. */
export async function listAudit(ctx: TenantContext, query: AuditQuery) {
  const { deps, tenant } = ctx;
  const { limit, userId } = query;
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

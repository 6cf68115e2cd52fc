import type { Deps } from '../deps.ts';
import type { AuditEntry } from '../domain/audit.ts';
import type { TenantRecord } from '../domain/records.ts';
import type { WebhookRecord } from '../domain/webhooks.ts';

/** What a tenant's use case works with: the outside world, the tenant, and its audit trail. */
export interface TenantContext {
  deps: Deps;
  tenant: TenantRecord;
  /** Who acts, in which request: what an audit event records. */
  actor: Actor;
  requestId: string;
  /** Records what this request did, with its actor and request id; never throws. */
  audit(entry: AuditEntry): Promise<void>;
  /** The tenant's webhook endpoints, once read in this request (lib/usecases/events.ts). */
  endpoints?: Promise<WebhookRecord[]>;
}

/** Who acts: a tenant key, or the operator acting on a tenant (`{"keyId": "operator"}`). */
export interface Actor {
  keyId: string;
  name: string;
}

export const OPERATOR: Actor = { keyId: 'operator', name: 'operator' };

/** The tenant, and an audit trail that knows who is acting and in which request. */
export function tenantContext(
  deps: Deps,
  tenant: TenantRecord,
  actor: Actor,
  requestId: string,
): TenantContext {
  return {
    deps,
    tenant,
    actor,
    requestId,
    audit: (entry) =>
      deps.audit.record({ ...entry, tenantId: tenant.tenantId, at: deps.now(), actor, requestId }),
  };
}

import type { AuditEntry } from '../domain/audit.ts';
import type { Deps } from '../deps.ts';
import type { TenantRecord } from '../domain/records.ts';

/** What a tenant's use case works with: the outside world, the tenant, and its audit trail. */
export interface TenantContext {
  deps: Deps;
  tenant: TenantRecord;
  /** Records what this request did, with its actor and request id; never throws. */
  audit(entry: AuditEntry): Promise<void>;
}

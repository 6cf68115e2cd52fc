import type { Deps } from '../deps.ts';
import { logger } from '../observability/logger.ts';
import type { PurgeJob } from '../queue/port.ts';

/** Items one step deletes: well inside a Lambda's time, and each step is idempotent. */
export const PURGE_STEP_ITEMS = 1000;

/**
 * One step of a deleted tenant's purge, as the queue delivers it. Each step deletes
 * what it finds and sends the next; a step that finds nothing sends one last look
 * after `purgeSettleSeconds` (a request that was in flight when the tenant was
 * deleted may still write an audit event), and that look, finding nothing, deletes
 * the tenant's own item: its id is free again. A step that fails is delivered again
 * by the queue, and carries on from what is left.
 */
export async function purgeStep(deps: Deps, job: PurgeJob): Promise<void> {
  const tenant = await deps.store.getTenant(job.tenantId);
  // Gone already (a redelivered last step), or not deleted (never purge a live tenant).
  if (!tenant || tenant.deletedAt === undefined) return;
  const { deleted, done } = await deps.store.purgeTenant(job.tenantId, PURGE_STEP_ITEMS, job.settle === true);
  if (done) {
    logger().info('tenant purged', { tenant: job.tenantId });
    return;
  }
  if (deleted > 0) await deps.purgeQueue.enqueue({ tenantId: job.tenantId });
  else await deps.purgeQueue.enqueue({ tenantId: job.tenantId, settle: true }, deps.purgeSettleSeconds);
}

import { countsOf, type EnrolmentCounts, overdueBounds, requirementOn } from '../domain/enrolment.ts';
import { emptyUser, type UserRecord, userStatus } from '../domain/user.ts';
import { serviceUnavailable } from '../errors.ts';
import { logger } from '../observability/logger.ts';
import type { Registering } from '../store/port.ts';
import type { TenantContext } from './context.ts';
import { again, done, untilApplied } from './optimistic.ts';

/** How many folds a request runs at most: each counts up to 100 marked users. */
const FOLDS_AFTER_CHANGE = 2;
const FOLDS_BEFORE_READ = 20;

/**
 * Counts what the request's change marked, with whatever else awaits counting. The
 * change is committed already and the counts read exactly without this (the reader
 * adds what no fold has counted), so a failure here is logged, never answered.
 */
export async function countChanges({ deps, tenant }: TenantContext): Promise<void> {
  try {
    for (let fold = 0; fold < FOLDS_AFTER_CHANGE; fold++) {
      if (!(await deps.store.foldCounts(tenant.tenantId, deps.now())).more) return;
    }
  } catch (error) {
    logger().warn('enrolment counts: a fold failed; the next one finishes it', { error });
  }
}

/**
 * PUT /v1/users/{userId}: registers the user, or changes its own due date or its
 * exemption; a field left out keeps its value. Idempotent.
 */
export async function registerUser(
  ctx: TenantContext,
  userId: string,
  read: UserRecord | undefined,
  change: Registering,
) {
  const { deps, tenant } = ctx;
  const registered = await untilApplied(read ?? emptyUser(tenant.tenantId, userId), async (current) => {
    const result = await deps.store.register(current, change, deps.now());
    if (result.applied) return done(result.user);
    return again(
      result.current ??
        (await deps.store.getUser(tenant.tenantId, userId)) ??
        emptyUser(tenant.tenantId, userId),
    );
  });
  await ctx.audit({ action: 'register', userId, outcome: 'success' });
  await countChanges(ctx);
  return { ...userStatus(registered, tenant.settings, deps.now()), userId };
}

/** GET /v1/enrolment: the tenant's counts, exact as of `asOf`, in a few store round trips. */
export async function enrolmentReport({ deps, tenant }: TenantContext) {
  const { enrolment } = tenant.settings;
  const tenantId = tenant.tenantId;
  // A tenant older than counting: its earlier enrolments are marked once, page by page.
  if (!(await deps.store.backfillCounting(tenantId, 5)))
    throw serviceUnavailable('the first count of this tenant');
  const nowMs = deps.now();
  const bounds = overdueBounds(enrolment, nowMs);
  let read = await deps.store.readCounts(tenantId, bounds);
  for (let fold = 0; read === 'backlog' && fold < FOLDS_BEFORE_READ; fold++) {
    if (!(await deps.store.foldCounts(tenantId, deps.now())).more)
      read = await deps.store.readCounts(tenantId, bounds);
  }
  if (read === 'backlog') read = await deps.store.readCounts(tenantId, bounds);
  if (read === 'backlog') throw serviceUnavailable('the enrolment counts, catching up with a bulk change,');
  const counts: EnrolmentCounts = countsOf(read.totals, read.overdue, requirementOn(tenant.settings));
  return {
    required: enrolment.required,
    deadline: enrolment.deadline,
    graceDays: enrolment.graceDays,
    asOf: new Date(nowMs).toISOString(),
    counts,
  };
}

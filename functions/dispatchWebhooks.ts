import { deps } from '../lib/deps.ts';
import { logger } from '../lib/observability/logger.ts';
import { dispatchDue } from '../lib/usecases/dispatch.ts';

/**
 * The webhook dispatcher, on a schedule: sends every delivery that is due, in batches,
 * while its run has time (a run takes no new batch after 40 s; the next run takes
 * the rest). Local mode runs the same handler every second.
 */
const BATCH = 25;

export const handler = async () => {
  const until = Date.now() + 40_000;
  let sent = 0;
  for (;;) {
    const handled = await dispatchDue(deps(), BATCH);
    sent += handled;
    // A batch not full: nothing more is due now.
    if (handled < BATCH || Date.now() > until) break;
  }
  if (sent > 0) logger().info('webhook deliveries attempted', { count: sent });
  return { sent };
};

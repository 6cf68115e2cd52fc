import { deps } from '../lib/deps.ts';
import { logger } from '../lib/observability/logger.ts';
import { powertoolsMetrics } from '../lib/observability/metrics.ts';
import { dispatchDue } from '../lib/usecases/dispatch.ts';

/**
 * The webhook dispatcher: sends every delivery that is due, in batches, while its run
 * has time (a run takes no new batch after 40 s; the next run takes the rest). In AWS it
 * runs every minute and whenever the table's stream shows a new message (the event
 * itself is not read: what is due is in the store); local mode runs it every second.
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
  // No middy stack here: the run's counts (WebhookFailed) are flushed by hand.
  const metrics = powertoolsMetrics();
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  return { sent };
};

import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** The counters the service emits, as CloudWatch Embedded Metric Format lines. */
export type MetricName =
  | 'VerifyValid'
  | 'VerifyInvalidCode'
  | 'VerifyReplayed'
  | 'VerifyLocked'
  | 'VerifyDisabled'
  | 'Lockout'
  | 'Disable'
  | 'Setup'
  | 'Confirm'
  | 'Imported'
  | 'DataKeyCacheHit'
  | 'DataKeyCacheMiss'
  | 'AuditWriteFailed'
  | 'WebhookFailed';

/** The port the use cases count through; no AWS type reaches them. */
export interface Counters {
  count(name: MetricName, value?: number): void;
}

let shared: Metrics | undefined;

/** One Metrics buffer per cold start, flushed after every request by the middy stack. */
export const powertoolsMetrics = (): Metrics => {
  shared ??= new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'TwoFactorAuth',
    serviceName: 'tfa',
  });
  return shared;
};

export const powertoolsCounters = (metrics: Metrics): Counters => ({
  count: (name, value = 1) => {
    metrics.addMetric(name, MetricUnit.Count, value);
  },
});

import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import type { ApiContext, Event, Result } from './types.ts';

/**
 * Flushes the request's metrics as one EMF line. Powertools' own logMetrics prints
 * an unstructured warning for every request that counted nothing (a status read, a
 * key list); this publishes only when there is something to publish.
 */
export const publishMetrics = (metrics: Metrics): MiddlewareObj<Event, Result, Error, ApiContext> => {
  const publish = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
};

import type { MiddlewareObj } from '@middy/core';
import type { ApiContext, Event, Result } from './types.ts';

/**
 * How long before the function's end a request stops starting store calls, so that
 * the calls in flight can finish and its answer (a 503 with Retry-After) still goes
 * out: a Lambda cut off by its timeout answers API Gateway's bare 500, and a handler
 * that went on writing after its answer would leave work the caller thinks undone.
 * Above the store's per-attempt timeout in Lambda (2 s), so a call in flight ends first.
 */
export const ANSWER_RESERVE_MS = 2500;
/** middy's own last resort, for a handler stuck past the reserve (a store hanging on retries). */
export const LAST_RESORT_MS = 300;

/** Where the function has no end (a test calling a handler directly), a generous one. */
const UNBOUNDED_MS = 60_000;

/** The request's deadline: `context.api.signal` aborts when its time is up (see ANSWER_RESERVE_MS). */
export const deadline = (): MiddlewareObj<Event, Result, Error, ApiContext> => {
  const timers = new WeakMap<object, NodeJS.Timeout>();
  const stop = (request: { context: ApiContext }) => clearTimeout(timers.get(request.context));
  return {
    before: (request) => {
      const { context } = request;
      const remaining = context.getRemainingTimeInMillis?.() ?? UNBOUNDED_MS;
      const budgetMs = Math.max(0, remaining - ANSWER_RESERVE_MS);
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(new RequestTimeUp(budgetMs, request.event.routeKey)),
        budgetMs,
      );
      timer.unref();
      timers.set(context, timer);
      context.api.signal = controller.signal;
    },
    after: stop,
    onError: stop,
  };
};

/** Why a request's store call was not started: logged with the call it did not make. */
export class RequestTimeUp extends Error {
  constructor(budgetMs: number, routeKey: string) {
    super(`${routeKey} used its ${budgetMs} ms`);
    this.name = 'RequestTimeUp';
  }
}

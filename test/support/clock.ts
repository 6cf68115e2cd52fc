import { after, before } from 'node:test';
import { useDeps } from '../../lib/deps.ts';

/**
 * The service's clock for the tests of one `describe`, moved through the one seam of
 * lib/deps.ts instead of waiting in real time; put back when they end. The service
 * runs in the test's process (local mode), so the seam reaches its handlers.
 */
export function movableClock() {
  let offset = 0;
  before(() => useDeps({ use: { now: () => Date.now() + offset } }));
  after(() => useDeps({}));
  return {
    /** Moves the service's time `ms` ahead of where it is. */
    advance(ms: number) {
      offset += ms;
    },
    /** Puts the service's time at `atMs` now. */
    setTo(atMs: number) {
      offset = atMs - Date.now();
    },
  };
}

import { serviceUnavailable } from '../errors.ts';

/**
 * Optimistic concurrency, the one loop every use case uses: judge the record as read,
 * try the conditional write that holds only if the record is still as judged, and on a
 * lost write judge again what another writer left. Each lost write means another
 * writer's won, so the loop ends quickly unless a record is hammered; after
 * MAX_ATTEMPTS it answers 503 (the caller may retry) rather than spin.
 *
 * Eight, not three: under a burst of 50 guesses at one user, a failure's count can lose
 * several times in a row to the others' and must still be counted (SECURITY.md, the
 * guess budget).
 */
export const MAX_ATTEMPTS = 8;

export type Attempt<R, T> = { kind: 'done'; value: T } | { kind: 'again'; read: R };
/** The answer: the write applied, or the record answers without one. */
export const done = <T>(value: T): Attempt<never, T> => ({ kind: 'done', value });
/** The write was lost: judge again with this record, as it is now. */
export const again = <R>(read: R): Attempt<R, never> => ({ kind: 'again', read });

export async function untilApplied<R, T>(
  first: R,
  attempt: (current: R, tries: number) => Promise<Attempt<R, T>>,
): Promise<T> {
  let current = first;
  for (let tries = 0; tries < MAX_ATTEMPTS; tries++) {
    const outcome = await attempt(current, tries);
    if (outcome.kind === 'done') return outcome.value;
    current = outcome.read;
  }
  throw serviceUnavailable('the database, under concurrent changes,');
}

import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { TfaApiError, type TfaClient } from '../client/tfaClient.ts';
import { describeFailure } from './common.ts';
import { csvCell, fromCsvCell } from './safeText.ts';

/**
 * `tfa users remove --from-file` and `tfa users register --from-file`: one call per
 * user with bounded concurrency, writing each user's outcome to a CSV report as it
 * comes, so a run stopped by Ctrl-C (or anything else) can be resumed from its report.
 */

/** A report row's outcome: `removed`, `not_enrolled`, or the error code that refused it. */
export type Outcome = 'removed' | 'not_enrolled' | string;
const DONE = new Set<Outcome>(['removed', 'not_enrolled']);
const REPORT_HEADER = ['userId', 'outcome', 'message'];

export interface Summary {
  removed: number;
  notEnrolled: number;
  failed: number;
  skipped: number;
  failures: { userId: string; code: string; message: string }[];
}

export interface BulkRemoval {
  ids: string[];
  reason: string;
  report: string;
  /** Earlier outcomes (a report): ids already removed or not enrolled are skipped. */
  resumed: Map<string, Outcome>;
  concurrency: number;
}

function rows(text: string): string[][] {
  return parse(text, {
    relax_column_count: true,
    skip_empty_lines: true,
    trim: true,
    comment: '#',
    bom: true,
  }) as string[][];
}

/**
 * The user ids of a file: CSV or plain text, one id per line, with an optional
 * header naming a `userId` column (the first column otherwise). Order kept,
 * duplicates dropped.
 */
export function readUserIds(text: string): string[] {
  const all = rows(text);
  const header = all[0]?.findIndex((cell) => cell.toLowerCase() === 'userid') ?? -1;
  const column = header === -1 ? 0 : header;
  const body = header === -1 ? all : all.slice(1);
  return [...new Set(body.map((row) => row[column] ?? '').filter((id) => id !== ''))];
}

/** A report's outcomes by user id (the last row of an id wins). */
export function readReport(text: string): Map<string, Outcome> {
  const [header, ...body] = rows(text);
  if (!header || header[0] !== 'userId' || header[1] !== 'outcome') {
    throw new Error('not a report of tfa users: its header must be userId,outcome,message');
  }
  return new Map(
    body.map((row) => [fromCsvCell(row[0] ?? ''), row[1] ?? ''] as const).filter(([id]) => id !== ''),
  );
}

export const readFile = (path: string) => readFileSync(path, 'utf8');

/** One id's work in a bulk run: its outcome (`removed`, `registered`, ...), or it throws. */
export type BulkAction = (userId: string) => Promise<Outcome>;

export interface BulkJob {
  ids: string[];
  report: string;
  /** Earlier outcomes (a report): ids whose outcome is in `done` are skipped. */
  resumed: Map<string, Outcome>;
  concurrency: number;
  done: ReadonlySet<Outcome>;
}

/**
 * Runs `act` over the ids with bounded concurrency, writing each outcome to the
 * report as it comes (a run stopped anywhere is resumed from its report).
 * `onOutcome` is told of each id as it is done (a progress bar); `stop` ends it
 * early: no new id starts, those in flight finish and are reported.
 */
export async function bulkEach(
  job: BulkJob,
  act: BulkAction,
  hooks: { onOutcome?: () => void; stop?: AbortSignal } = {},
): Promise<{ outcomes: Map<Outcome, number>; skipped: number; failures: Summary['failures'] }> {
  const outcomes = new Map<Outcome, number>();
  const failures: Summary['failures'] = [];
  let skipped = 0;
  const record = (userId: string, outcome: Outcome, message = '') =>
    appendFileSync(job.report, stringify([[userId, outcome, message].map(csvCell)]), { mode: 0o600 });

  // The new report starts with what the resumed one settled, so it is always the whole record.
  writeFileSync(job.report, stringify([REPORT_HEADER]), { mode: 0o600 });
  const todo: string[] = [];
  for (const userId of job.ids) {
    const earlier = job.resumed.get(userId);
    if (earlier !== undefined && job.done.has(earlier)) {
      skipped++;
      record(userId, earlier, 'from the resumed report');
    } else todo.push(userId);
  }

  let next = 0;
  const worker = async () => {
    while (next < todo.length && !hooks.stop?.aborted) {
      const userId = todo[next++] as string;
      try {
        const outcome = await act(userId);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        record(userId, outcome);
      } catch (error) {
        const code = error instanceof TfaApiError ? error.code : 'network_error';
        const message = error instanceof TfaApiError ? error.message : describeFailure(error);
        failures.push({ userId, code, message });
        record(userId, code, message);
      }
      hooks.onOutcome?.();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, job.concurrency) }, worker));
  return { outcomes, skipped, failures };
}

/** The removal of `tfa users remove --from-file`. */
export async function bulkRemove(
  client: TfaClient,
  job: BulkRemoval,
  hooks: { onOutcome?: () => void; stop?: AbortSignal } = {},
): Promise<Summary> {
  const run = await bulkEach(
    { ...job, done: DONE },
    async (userId) => ((await client.users.remove(userId, job.reason)).removed ? 'removed' : 'not_enrolled'),
    hooks,
  );
  return {
    removed: run.outcomes.get('removed') ?? 0,
    notEnrolled: run.outcomes.get('not_enrolled') ?? 0,
    failed: run.failures.length,
    skipped: run.skipped,
    failures: run.failures,
  };
}

import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { allItems, type UserFilter } from '../../client/tfaClient.ts';
import { type Cli, UsageError } from '../common.ts';
import { show, table } from '../output.ts';
import { csvCell } from '../safeText.ts';

const STATUSES: readonly UserFilter[] = ['unenrolled', 'due', 'overdue', 'exempt', 'enabled', 'pending'];

/** `tfa report enrolment`: who has enrolled and who has not (support key; docs/enrolment.md). */
export function reportCommand(cli: Cli): Command {
  const report = new Command('report').description('Reports over the tenant (support key).');
  report
    .command('enrolment')
    .description('The enrolment counts; with --status, then the users in that state as CSV.')
    .option('--status <status>', `the users that are ${STATUSES.join(', ')}`)
    .option('--out <file>', 'write the CSV of users there instead of to standard output')
    .action(async (options: { status?: string; out?: string }) => {
      const status = options.status as UserFilter | undefined;
      if (status !== undefined && !STATUSES.includes(status)) {
        throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
      }
      const client = cli.client();
      const output = cli.output();
      const counts = await client.enrolment.report();
      show(output, counts, (r) =>
        [
          `Enrolment ${r.required ? 'required' : 'not required'}; deadline ${r.deadline ?? 'none'}; grace ${r.graceDays} days; as of ${r.asOf}.`,
          table(
            ['REGISTERED', 'ENROLLED', 'UNENROLLED', 'DUE', 'OVERDUE', 'EXEMPT'],
            [
              [
                r.counts.registered,
                r.counts.enrolled,
                r.counts.unenrolled,
                r.counts.due,
                r.counts.overdue,
                r.counts.exempt,
              ],
            ],
          ),
        ].join('\n'),
      );
      if (status === undefined) return;
      const users = await allItems(
        (cursor) => client.users.list({ status, limit: 100, ...(cursor ? { cursor } : {}) }),
        (page) => page.users,
      );
      const csv = stringify([
        ['userId', 'state', 'dueAt', 'authenticators'],
        ...users.map((u) =>
          [u.userId, u.enrolment.state, u.enrolment.dueAt ?? '', String(u.authenticators)].map(csvCell),
        ),
      ]);
      if (options.out) {
        writeFileSync(options.out, csv, { mode: 0o600 });
        output.warn(`${users.length} ${status} users: ${options.out}`);
      } else process.stdout.write(csv);
    });
  return report;
}

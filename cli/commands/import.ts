import { readFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { cpanelChunks } from '../../client/cpanelChunks.ts';
import type { Schemas } from '../../client/tfaClient.ts';
import { type Cli, EXIT, Exit, UsageError } from '../common.ts';
import { show, table } from '../output.ts';

/** The API's answers merged, and the weak logins named: the ones to have re-enrol. */
type Summary = Schemas['ImportResult'] & { weakLogins: string[] };
/** How many weak logins the text output names before it points to --json. */
const NAMED = 20;

/** `tfa import cpanel FILE`: cPanel & WHM enrolments moved here, in calls of at most 1,000 logins. */
export function importCommand(cli: Cli): Command {
  const command = new Command('import').description('Move enrolments from another system (admin key).');
  command
    .command('cpanel')
    .description(
      'Import cPanel & WHM 2FA: a WHM API 1 twofactorauth_get_tfa_config_for_user answer, or tfa_userdata.json.',
    )
    .argument('<file>', 'the export (JSON, either shape)')
    .option('--issuer <name>', "the issuer stored with each enrolment (the tenant's by default)")
    .option('--dry-run', 'show what would happen; change nothing')
    .option('--overwrite', 'replace an active authenticator that has another secret')
    .action(async (file: string, options: { issuer?: string; dryRun?: boolean; overwrite?: boolean }) => {
      let chunks;
      try {
        chunks = cpanelChunks(JSON.parse(readFileSync(file, 'utf8')));
      } catch (error) {
        throw new UsageError(`${file}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const client = cli.client();
      const output = cli.output();
      const dryRun = options.dryRun === true;
      const merged: Summary = {
        dryRun,
        format: 'cpanel',
        counts: { imported: 0, unchanged: 0, conflict: 0, invalid: 0, skipped: 0 },
        results: [],
        weakLogins: [],
      };
      const bar = process.stderr.isTTY
        ? new SingleBar({ stream: process.stderr, format: '{bar} {value}/{total} calls' })
        : undefined;
      bar?.start(chunks.length, 0);
      try {
        for (const source of chunks) {
          const answer = await client.importLogins('cpanel', {
            source,
            dryRun,
            overwrite: options.overwrite === true,
            ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
          });
          for (const key of ['imported', 'unchanged', 'conflict', 'invalid', 'skipped'] as const) {
            merged.counts[key] += answer.counts[key];
          }
          merged.results.push(...answer.results);
          merged.weakLogins.push(...answer.results.filter((r) => r.weakSecret).map((r) => r.userId));
          bar?.increment();
        }
      } finally {
        bar?.stop();
      }
      show(output, merged, (m) => {
        const { imported, unchanged, conflict, invalid } = m.counts;
        const verb = m.dryRun ? 'Would import' : 'Imported';
        const lines = [
          `${verb} ${imported}, unchanged ${unchanged}, conflict ${conflict}, invalid ${invalid}.`,
        ];
        const notable = m.results.filter((r) => r.outcome !== 'imported' && r.outcome !== 'unchanged');
        if (notable.length > 0)
          lines.push(
            table(
              ['USER', 'OUTCOME'],
              notable.map((r) => [r.userId, r.outcome]),
            ),
          );
        const weak = m.weakLogins;
        if (weak.length > 0) {
          const more = weak.length > NAMED ? `, and ${weak.length - NAMED} more (--json lists them all)` : '';
          lines.push(
            `${weak.length} with secrets under 128 bits: ${weak.slice(0, NAMED).join(', ')}${more}.`,
            'Have each of them reconfigure (setup with reconfigure, then confirm) to rotate the secret.',
          );
        }
        if (conflict > 0) lines.push('A conflict is left alone; --overwrite replaces it.');
        return lines.join('\n');
      });
      if (merged.counts.invalid > 0) throw new Exit(EXIT.refused);
    });
  return command;
}

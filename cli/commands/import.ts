import { readFileSync, writeFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { importChunks, type ImportFormatName } from '../../client/importChunks.ts';
import type { Schemas } from '../../client/tfaClient.ts';
import { type Cli, EXIT, Exit, UsageError } from '../common.ts';
import { show, table } from '../output.ts';

/** The API's answers merged, and the weak logins named: the ones to have re-enrol. */
type Summary = Schemas['ImportResult'] & { weakLogins: string[] };
/** How many weak logins the text output names before it points to --json. */
const NAMED = 20;

/** What each format's FILE is (docs/migration.md says how to make it). */
const FORMATS: Record<ImportFormatName, string> = {
  cpanel: 'cPanel & WHM: a WHM API 1 twofactorauth_get_tfa_config_for_user answer, or tfa_userdata.json',
  hestia: 'HestiaCP: the output of v-list-user <user> json, for one user or a loop over them',
  webmin: 'Webmin, Virtualmin, Usermin: a miniserv.users or twofactor-users file',
  cyberpanel: 'CyberPanel: loginSystem_administrator as mysql -B prints it, or its rows as JSON',
  otpauth: 'otpauth://totp/ URIs, <userId>,<URI> or <userId>,<secret>[,<algorithm>,<digits>,<period>] lines',
};

/** `tfa import <format> FILE`: another panel's enrolments moved here, in calls of at most 1,000 logins. */
export function importCommand(cli: Cli): Command {
  const command = new Command('import').description('Move enrolments from another system (admin key).');
  for (const [format, what] of Object.entries(FORMATS) as [ImportFormatName, string][]) {
    command
      .command(format)
      .description(`Import ${what}.`)
      .argument('<file>', 'the export, as the panel wrote it')
      .option(
        '--issuer <name>',
        "the issuer stored with each enrolment that names none (the tenant's by default)",
      )
      .option('--dry-run', 'show what would happen; change nothing')
      .option('--overwrite', 'replace an active authenticator that has another secret')
      .option('--report <file>', "also write every login's outcome there, as JSON")
      .action((file: string, options: ImportOptions) => importFile(cli, format, file, options));
  }
  return command;
}

type ImportOptions = { issuer?: string; dryRun?: boolean; overwrite?: boolean; report?: string };

async function importFile(cli: Cli, format: ImportFormatName, file: string, options: ImportOptions) {
  let chunks;
  try {
    chunks = importChunks(format, readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const client = cli.client();
  const output = cli.output();
  const dryRun = options.dryRun === true;
  const merged: Summary = {
    dryRun,
    format,
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
      const answer = await client.importLogins(format, {
        source: source as Schemas['ImportRequest']['source'],
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
    const { imported, unchanged, conflict, invalid, skipped } = m.counts;
    const verb = m.dryRun ? 'Would import' : 'Imported';
    const lines = [
      `${verb} ${imported}, unchanged ${unchanged}, conflict ${conflict}, invalid ${invalid}, skipped ${skipped}.`,
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
        `${weak.length} with weak secrets (short, or weak at their source): ${weak.slice(0, NAMED).join(', ')}${more}.`,
        'Have each of them reconfigure (setup with reconfigure, then confirm) to rotate the secret.',
      );
    }
    if (conflict > 0) lines.push('A conflict is left alone; --overwrite replaces it.');
    return lines.join('\n');
  });
  if (options.report !== undefined) writeFileSync(options.report, `${JSON.stringify(merged, null, 2)}\n`);
  if (merged.counts.invalid > 0) throw new Exit(EXIT.refused);
}

import { Command, Option } from 'commander';
import type { Schemas } from '../../client/tfaClient.ts';
import { type Cli, integer, UsageError, utcTime } from '../common.ts';
import { fields, show } from '../output.ts';

const view = (s: Schemas['Settings']) =>
  fields([
    ['tenant', s.tenantId],
    ['issuer', s.issuer],
    ['policy', s.policy],
    ['algorithm', s.totp.algorithm],
    ['digits', s.totp.digits],
    ['period', `${s.totp.period} s`],
    ['window', `±${s.totp.window} steps`],
    ['max failures', s.lockout.maxFailures],
    ['lock', `${s.lockout.lockSeconds} s`],
    ['setup lifetime', `${s.setupTtlSeconds} s`],
    ['enrolment', s.enrolment.required ? 'required' : 'not required'],
    ['deadline', s.enrolment.deadline ?? 'none'],
    ['grace', `${s.enrolment.graceDays} days`],
  ]);

interface SetOptions {
  issuer?: string;
  policy?: 'enabled' | 'disabled';
  algorithm?: 'SHA1' | 'SHA256' | 'SHA512';
  digits?: number;
  period?: number;
  window?: number;
  maxFailures?: number;
  lockSeconds?: number;
  setupTtlSeconds?: number;
  requireEnrolment?: 'yes' | 'no';
  deadline?: string | null;
  graceDays?: number;
}

/** The PATCH body: only what was given. The API judges the ranges and names what is wrong. */
export function settingsChange(options: SetOptions): Schemas['SettingsChange'] {
  const change: Schemas['SettingsChange'] = {};
  if (options.issuer !== undefined) change.issuer = options.issuer;
  if (options.policy !== undefined) change.policy = options.policy;
  const totp = {
    algorithm: options.algorithm,
    digits: options.digits,
    period: options.period,
    window: options.window,
  };
  if (Object.values(totp).some((v) => v !== undefined)) {
    change.totp = Object.fromEntries(Object.entries(totp).filter(([, v]) => v !== undefined));
  }
  const lockout = { maxFailures: options.maxFailures, lockSeconds: options.lockSeconds };
  if (Object.values(lockout).some((v) => v !== undefined)) {
    change.lockout = Object.fromEntries(Object.entries(lockout).filter(([, v]) => v !== undefined));
  }
  if (options.setupTtlSeconds !== undefined) change.setupTtlSeconds = options.setupTtlSeconds;
  const enrolment = {
    required: options.requireEnrolment === undefined ? undefined : options.requireEnrolment === 'yes',
    deadline: options.deadline,
    graceDays: options.graceDays,
  };
  if (Object.values(enrolment).some((v) => v !== undefined)) {
    change.enrolment = Object.fromEntries(Object.entries(enrolment).filter(([, v]) => v !== undefined));
  }
  return change;
}

/** `tfa settings get | set`: the tenant's settings (admin key). */
export function settingsCommand(cli: Cli): Command {
  const settings = new Command('settings').description("Read or change the tenant's settings (admin key).");

  settings
    .command('get')
    .description('Show the settings.')
    .action(async () => {
      show(cli.output(), await cli.client().settings.get(), view);
    });

  settings
    .command('set')
    .description('Change some settings; a change of TOTP parameters or issuer applies to new enrolments.')
    .option('--issuer <name>', 'the name authenticator apps show (1 to 64 characters, no ":")')
    .addOption(
      new Option('--policy <policy>', 'whether 2FA is offered and enforced').choices(['enabled', 'disabled']),
    )
    .addOption(
      new Option('--algorithm <algorithm>', 'HMAC of new enrolments').choices(['SHA1', 'SHA256', 'SHA512']),
    )
    .addOption(
      new Option('--digits <n>', 'code length of new enrolments').choices(['6', '8']).argParser(integer),
    )
    .option('--period <seconds>', 'time step of new enrolments (15 to 120)', integer)
    .option('--window <steps>', 'steps accepted either side of now (0 to 3)', integer)
    .option('--max-failures <n>', 'consecutive failures that lock a user (1 to 100)', integer)
    .option('--lock-seconds <seconds>', 'how long a lock lasts (1 to 86400)', integer)
    .option(
      '--setup-ttl-seconds <seconds>',
      'how long a setup may wait for its confirm (60 to 86400)',
      integer,
    )
    .addOption(
      new Option(
        '--require-enrolment <yes|no>',
        'every registered user must enrol (docs/enrolment.md)',
      ).choices(['yes', 'no']),
    )
    .option(
      '--deadline <date|none>',
      "the tenant's enrolment deadline (2027-01-31, a UTC time, or none)",
      (v) => (v === 'none' ? null : utcTime(v)),
    )
    .option('--grace-days <days>', 'days a newly unenrolled user has to enrol (0 to 365)', integer)
    .action(async (options: SetOptions) => {
      const change = settingsChange(options);
      if (Object.keys(change).length === 0)
        throw new UsageError('nothing to change: give at least one option');
      show(cli.output(), await cli.client().settings.change(change), view);
    });

  return settings;
}

import { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { allItems, type Schemas, USER_FILTERS, type UserFilter } from '../../client/tfaClient.ts';
import { bulkEach, readFile, readReport, readUserIds } from '../bulkRemove.ts';
import { type Cli, EXIT, Exit, integer, UsageError, utcTime } from '../common.ts';
import { fields, show, table } from '../output.ts';
import { more } from './tenants.ts';

const yesNo = (value: boolean | null) => (value === null ? null : value ? 'yes' : 'no');

const userRows = (users: Schemas['UserSummary'][]) =>
  table(
    [
      'USER',
      'ENABLED',
      'PENDING',
      'AUTHENTICATORS',
      'DISABLED',
      'SOURCE',
      'WEAK SECRET',
      'CONFIRMED',
      'LAST VERIFIED',
      'LOCKED UNTIL',
    ],
    users.map((u) => [
      u.userId,
      yesNo(u.enabled),
      yesNo(u.pending),
      u.authenticators,
      yesNo(u.disabled),
      u.source,
      yesNo(u.weakSecret),
      u.confirmedAt,
      u.lastVerifiedAt,
      u.lockedUntil,
    ]),
  );

const statusView = (s: Schemas['Status']) =>
  fields([
    ['user', s.userId],
    ['enabled', s.enabled ? 'yes' : 'no'],
    ['pending setup', s.pending ? 'yes' : 'no'],
    ['enforced', s.enforced ? 'yes' : 'no'],
    ['confirmed', s.confirmedAt],
    ['last verified', s.lastVerifiedAt],
    ['failed attempts', s.failedAttempts],
    ['locked until', s.lockedUntil],
    ['disabled', s.disabled ? 'yes: 100 failures in a row; a reconfigure or removal lifts it' : 'no'],
    ['source', s.source],
    [
      'weak secret',
      s.weakSecret ? 'yes: shorter than 128 bits; have the user reconfigure' : yesNo(s.weakSecret),
    ],
    ['recovery codes left', s.recoveryCodesRemaining],
    ['authenticators', s.authenticators.length],
    [
      'clock skew',
      s.clockSkew === null
        ? null
        : `${s.clockSkew.steps > 0 ? '+' : ''}${s.clockSkew.steps} steps at ${s.clockSkew.at}: the phone's clock is likely off`,
    ],
  ]);

const authenticatorRows = (s: Schemas['Status']) =>
  s.authenticators.length === 0
    ? `${s.userId} has no active authenticator.`
    : table(
        ['ID', 'LABEL', 'CONFIRMED', 'LAST USED', 'SOURCE', 'WEAK SECRET', 'PARAMETERS'],
        s.authenticators.map((a) => [
          a.authenticatorId,
          a.label,
          a.confirmedAt,
          a.lastUsedAt,
          a.importedFrom === null ? a.source : `${a.source} (${a.importedFrom})`,
          a.weakSecret ? `yes: ${a.weakReasons.join(', ')}` : 'no',
          `${a.algorithm} ${a.digits} digits ${a.period} s`,
        ]),
      );

/** What an unlock did, in words; `changed` is false where the user is no better off. */
export function unlockOutcome(before: Schemas['Status'], after: Schemas['Status']) {
  const id = before.userId;
  if (!before.enabled) {
    return { changed: false, said: `${id} is not enrolled: nothing to unlock.` };
  }
  if (after.disabled) {
    return {
      changed: false,
      said: `${before.lockedUntil ? 'Unlocked' : 'Not locked'}, but ${id} is still disabled after 100 failures: remove two-factor authentication (tfa users remove) to let the user enrol again.`,
    };
  }
  if (before.lockedUntil) return { changed: true, said: `Unlocked ${id}.` };
  return { changed: false, said: `${id} was not locked: nothing to unlock.` };
}

interface FileOptions {
  fromFile?: string;
  report?: string;
  resume?: string;
  concurrency: number;
}

interface RemoveOptions extends FileOptions {
  reason: string;
  authenticator?: string;
  forget?: boolean;
}

interface RegisterOptions extends FileOptions {
  due?: string;
  exempt?: boolean;
}

/** `tfa users ...`: the users of the tenant (support key; status also with a users key). */
export function usersCommand(cli: Cli): Command {
  const users = new Command('users').description(
    "The tenant's users: list, status, unlock, remove (support key).",
  );

  users
    .command('list')
    .description('List the users with two-factor authentication, in user-id order.')
    .option('--status <status>', `only the users that are ${USER_FILTERS.join(', ')}`)
    .option('--all', 'every page')
    .option('--limit <n>', 'users per page (1 to 100)', integer)
    .option('--cursor <cursor>', 'the page after a previous one')
    .action(async (options: { status?: UserFilter; all?: boolean; limit?: number; cursor?: string }) => {
      if (options.status !== undefined && !USER_FILTERS.includes(options.status)) {
        throw new UsageError(`--status must be one of ${USER_FILTERS.join(', ')}`);
      }
      const client = cli.client();
      const output = cli.output();
      const status = options.status === undefined ? {} : { status: options.status };
      if (options.all) {
        const all = await allItems(
          (cursor) => client.users.list({ ...status, limit: options.limit ?? 100, cursor }),
          (page) => page.users,
        );
        show(output, { users: all }, (u) => userRows(u.users));
        return;
      }
      const page = await client.users.list({ ...status, limit: options.limit, cursor: options.cursor });
      show(output, page, (p) => userRows(p.users) + more(p.nextCursor, 'tfa users list'));
    });

  users
    .command('status')
    .description("A user's two-factor status; never a secret.")
    .argument('<userId>')
    .action(async (userId: string) => {
      show(cli.output(), await cli.client().users.status(userId), statusView);
    });

  users
    .command('authenticators')
    .description("A user's active authenticators, oldest first: ids, labels, when last used; never a secret.")
    .argument('<userId>')
    .action(async (userId: string) => {
      show(cli.output(), await cli.client().users.status(userId), authenticatorRows);
    });

  users
    .command('rename-authenticator')
    .description("Give one of a user's authenticators a new label (users key).")
    .argument('<userId>')
    .argument('<authenticatorId>', 'as `tfa users authenticators` lists it')
    .argument('<label>', '1 to 64 printable characters, unique for the user')
    .action(async (userId: string, authenticatorId: string, label: string) => {
      const renamed = await cli.client().users.renameAuthenticator(userId, authenticatorId, label);
      show(cli.output(), renamed, (a) => `Renamed ${a.authenticatorId} of ${userId} to "${a.label}".`);
    });

  users
    .command('unlock')
    .description('Lift the timed lock after failed attempts (not a disable).')
    .argument('<userId>')
    .action(async (userId: string) => {
      const client = cli.client();
      // The state before says what the unlock did: the answer alone cannot.
      const before = await client.users.status(userId);
      const after = await client.users.unlock(userId);
      const outcome = unlockOutcome(before, after);
      show(cli.output(), after, (s) => `${outcome.said}\n${statusView(s)}`);
      if (!outcome.changed) throw new Exit(EXIT.refused);
    });

  users
    .command('remove')
    .description('Remove two-factor authentication for one user, or for every user of a file.')
    .argument('[userId]', 'the user (or give --from-file)')
    .requiredOption('--reason <reason>', 'why, for the audit trail (1 to 256 characters)')
    .option('--authenticator <id>', 'remove only this authenticator (a lost phone); the others stay')
    .option('--forget', 'the registration goes too (the account left the panel)')
    .option('--from-file <file>', 'CSV or text, one user id per line, optional header "userId"')
    .option('--report <file>', "where each user's outcome is written (default: tfa-remove-<time>.csv)")
    .option('--resume <report>', 'skip the users an earlier report shows as removed or not enrolled')
    .option('--concurrency <n>', 'removals in flight at once', integer, 8)
    .action(async (userId: string | undefined, options: RemoveOptions) => {
      oneOrFile(userId, options);
      if (options.reason.trim() === '') throw new UsageError('--reason must not be empty');
      if (options.authenticator !== undefined) {
        if (userId === undefined) throw new UsageError('--authenticator goes with one userId');
        const answer = await cli
          .client()
          .users.removeAuthenticator(userId, options.authenticator, options.reason);
        show(cli.output(), answer, (a) =>
          a.removed
            ? `Removed authenticator ${a.authenticatorId} of ${a.userId}.`
            : `${a.userId} has no authenticator ${a.authenticatorId}.`,
        );
        if (!answer.removed) throw new Exit(EXIT.refused);
        return;
      }
      if (userId !== undefined) {
        const answer = await cli.client().users.remove(userId, options.reason, options.forget);
        show(cli.output(), answer, (a) =>
          a.removed
            ? `Removed two-factor authentication for ${a.userId}${options.forget ? ', and forgot it' : ''}.`
            : `${a.userId} had no two-factor authentication.`,
        );
        return;
      }
      const client = cli.client();
      await fromFile(cli, options as RemoveOptions & { fromFile: string }, {
        verb: 'remove',
        done: new Set(['removed', 'not_enrolled']),
        act: async (id) =>
          (await client.users.remove(id, options.reason, options.forget)).removed
            ? 'removed'
            : 'not_enrolled',
      });
    });

  users
    .command('register')
    .description('Register users who must enrol (one, or every user of a file); see docs/enrolment.md.')
    .argument('[userId]', 'the user (or give --from-file)')
    .option('--due <date>', "the users' own due date (2027-01-31 or an ISO 8601 UTC time)", utcTime)
    .option('--exempt', 'not required to enrol (service accounts)')
    .option('--from-file <file>', 'CSV or text, one user id per line, optional header "userId"')
    .option('--report <file>', "where each user's outcome is written (default: tfa-register-<time>.csv)")
    .option('--resume <report>', 'skip the users an earlier report shows as registered')
    .option('--concurrency <n>', 'registrations in flight at once', integer, 8)
    .action(async (userId: string | undefined, options: RegisterOptions) => {
      oneOrFile(userId, options);
      const body = {
        ...(options.due === undefined ? {} : { dueAt: options.due }),
        ...(options.exempt ? { exempt: true } : {}),
      };
      const client = cli.client();
      if (userId !== undefined) {
        const answer = await client.users.register(userId, body);
        show(cli.output(), answer, (a) => {
          const e = a.enrolment;
          return `${a.userId}: registered, ${e.state.replace('_', ' ')}${e.dueAt ? ` (due ${e.dueAt})` : ''}.`;
        });
        return;
      }
      await fromFile(cli, options as RegisterOptions & { fromFile: string }, {
        verb: 'register',
        done: new Set(['registered']),
        act: async (id) => {
          await client.users.register(id, body);
          return 'registered';
        },
      });
    });

  return users;
}

/** One userId or `--from-file`, not both; a report and a resume belong to a file. */
function oneOrFile(userId: string | undefined, options: FileOptions & { fromFile?: string }) {
  if ((userId === undefined) === (options.fromFile === undefined)) {
    throw new UsageError('give a userId or --from-file FILE, not both');
  }
  if (userId !== undefined && (options.report || options.resume))
    throw new UsageError('--report and --resume go with --from-file');
}

/** A bulk run over the ids of a file: progress bar, report, Ctrl-C, resume (bulkRemove.ts). */
async function fromFile(
  cli: Cli,
  options: FileOptions & { fromFile: string },
  work: { verb: string; done: ReadonlySet<string>; act: (userId: string) => Promise<string> },
) {
  if (options.concurrency < 1 || options.concurrency > 64)
    throw new UsageError('--concurrency must be 1 to 64');
  const output = cli.output();
  let ids: string[];
  let resumed = new Map<string, string>();
  try {
    ids = readUserIds(readFile(options.fromFile));
    if (options.resume) resumed = readReport(readFile(options.resume));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const report = options.report ?? `tfa-${work.verb}-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`;

  // Ctrl-C: no new removal starts; those in flight finish and are reported. A second one quits at once.
  const stop = new AbortController();
  const onInterrupt = () => {
    if (stop.signal.aborted) process.exit(EXIT.interrupted);
    stop.abort();
    output.warn('\ninterrupted: finishing the calls in flight (Ctrl-C again to quit now)');
  };
  process.on('SIGINT', onInterrupt);
  const bar = process.stderr.isTTY
    ? new SingleBar({ stream: process.stderr, format: '{bar} {value}/{total} users' })
    : undefined;
  bar?.start(ids.length, 0);
  try {
    const run = await bulkEach(
      { ids, report, resumed, concurrency: options.concurrency, done: work.done },
      work.act,
      { onOutcome: () => bar?.increment(), stop: stop.signal },
    );
    bar?.stop();
    // The summary's fields are the outcomes in camelCase: removed, notEnrolled, registered.
    const camel = (outcome: string) => outcome.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    const summary = {
      ...Object.fromEntries([...work.done].map((o) => [camel(o), run.outcomes.get(o) ?? 0])),
      failed: run.failures.length,
      skipped: run.skipped,
      failures: run.failures,
    };
    show(output, summary, () =>
      [
        `${[...work.done].map((o, i) => `${i === 0 ? o[0]?.toUpperCase() + o.slice(1) : o}`.replace('_', ' ') + ` ${run.outcomes.get(o) ?? 0}`).join(', ')}, failed ${run.failures.length}, skipped ${run.skipped} (of ${ids.length}).`,
        ...run.failures.map((f) => `  ${f.userId}: ${f.code}: ${f.message}`),
      ].join('\n'),
    );
    output.warn(`report: ${report}`);
    if (stop.signal.aborted) {
      output.warn(`stopped before the end: resume with --resume ${report}`);
      throw new Exit(EXIT.interrupted);
    }
    if (run.failures.length > 0) throw new Exit(EXIT.refused);
  } finally {
    bar?.stop();
    process.off('SIGINT', onInterrupt);
  }
}

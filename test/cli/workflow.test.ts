import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { encodeSecret } from '../../lib/domain/totp.ts';
import { PROJECT_ROOT } from '../../lib/local/service.ts';
import { startFaultProxy } from '../support/faultProxy.ts';
import { codeFor, freshStep } from '../support/otp.ts';
import { runTfa, TFA_BIN } from '../support/cli.ts';
import { startTestService } from '../support/service.ts';
import { enrol, tenantWith, assertAccepted } from '../support/users.ts';
import { movableClock } from '../support/clock.ts';

/**
 * A support shift with the `tfa` command, spawned as a person runs it, against the
 * real local service: the operator makes a tenant, its admin makes keys, support
 * lists users, removes 2FA in bulk from a file with a report, is interrupted,
 * resumes, unlocks a user, and reads the audit trail.
 */

const service = await startTestService();
const { client, operatorKey } = service;
const work = mkdtempSync(join(tmpdir(), 'tfa-cli-'));

const tfa = (args: string[], options: { key?: string; url?: string } = {}) =>
  runTfa(args, { cwd: work, url: options.url ?? service.url, key: options.key });

/** A `--json` run: it succeeded and printed exactly one JSON document. */
async function tfaJson(args: string[], key: string) {
  const run = await tfa([...args, '--json'], { key });
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout);
}

const reportRows = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','));

describe('a support workflow with the tfa CLI', () => {
  let admin: string;
  let support: string;
  let panel: string;
  const enrolled = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];

  it('the operator creates a tenant, and reads it back', async () => {
    const created = await tfaJson(['tenants', 'create', 'acme', '--issuer', 'Acme Hosting'], operatorKey);
    assert.equal(created.tenantId, 'acme');
    assert.equal(created.apiKey.name, 'bootstrap');
    admin = created.apiKey.secret;

    const listed = await tfa(['tenants', 'list'], { key: operatorKey });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^TENANT\s+ISSUER\s+POLICY\s+CREATED\n/);
    assert.match(listed.stdout, /^acme\s+Acme Hosting\s+enabled\s+20\d\d-/m);
    const shown = await tfa(['tenants', 'show', 'acme'], { key: operatorKey });
    assert.match(shown.stdout, /issuer:\s+Acme Hosting/);
    assert.deepEqual(
      (await tfaJson(['tenants', 'list', '--all'], operatorKey)).tenants.map((t: any) => t.tenantId),
      ['acme'],
    );
  });

  it('the admin makes keys, lists them, and sets the lockout', async () => {
    support = (await tfaJson(['keys', 'create', '--name', 'support-desk', '--scopes', 'support'], admin))
      .secret;
    panel = (await tfaJson(['keys', 'create', '--name', 'panel', '--scopes', 'users'], admin)).secret;
    const human = await tfa(['keys', 'create', '--name', 'spare', '--scopes', 'users,support'], {
      key: admin,
    });
    assert.match(
      human.stdout,
      /^Created key (\S+) \(spare; users, support\)\.\nSecret, shown only now: tfa\.acme\./,
    );
    const spareId = /^Created key (\S+)/.exec(human.stdout)?.[1] as string;

    const listed = await tfa(['keys', 'list'], { key: admin });
    assert.match(listed.stdout, /support-desk\s+support\s/);
    assert.doesNotMatch(listed.stdout, /tfa\.acme\./, 'a listing never shows a secret');
    assert.deepEqual(await tfaJson(['keys', 'delete', spareId], admin), { id: spareId, deleted: true });

    const settings = await tfaJson(
      ['settings', 'set', '--max-failures', '3', '--lock-seconds', '600'],
      admin,
    );
    assert.deepEqual(settings.lockout, { maxFailures: 3, lockSeconds: 600 });
    const human2 = await tfa(['settings', 'get'], { key: admin });
    assert.match(human2.stdout, /max failures:\s+3/);
  });

  it('support lists the enrolled users, every page', async () => {
    for (const userId of enrolled) await enrol(client, panel, userId);
    await client.typed(panel).users.setup('pending-paul');
    const all = await tfaJson(['users', 'list', '--all', '--limit', '2'], support);
    assert.deepEqual(
      all.users.map((u: any) => u.userId),
      [...enrolled, 'pending-paul'].sort(),
    );
    const pending = await tfaJson(['users', 'list', '--status', 'pending'], support);
    assert.deepEqual(
      pending.users.map((u: any) => u.userId),
      ['pending-paul'],
    );
    const human = await tfa(['users', 'list', '--limit', '2'], { key: support });
    assert.match(human.stdout, /^USER\s+ENABLED/);
    assert.match(human.stdout, /More: tfa users list --cursor \S+/);
  });

  it('support unlocks a locked user', async () => {
    const { setup } = await enrol(client, panel, 'locked-lou');
    for (let i = 0; i < 3; i++) await client.typed(panel).users.verify('locked-lou', '000000');
    const locked = await tfa(['users', 'status', 'locked-lou'], { key: support });
    assert.match(locked.stdout, /locked until:\s+20\d\d-/);
    assert.deepEqual(
      (await tfaJson(['users', 'list', '--status', 'locked'], support)).users.map((u: any) => u.userId),
      ['locked-lou'],
    );
    const said = await tfa(['users', 'unlock', 'locked-lou'], { key: support });
    assert.equal(said.code, 0, said.stderr);
    assert.match(said.stdout, /^Unlocked locked-lou\.\n/);
    const unlocked = await tfaJson(['users', 'status', 'locked-lou'], support);
    assert.equal(unlocked.lockedUntil, null);
    assertAccepted(
      await client.typed(panel).users.verify('locked-lou', codeFor(setup, 1)),
      setup.authenticatorId,
    );
  });

  it("lists a user's authenticators, renames one (users key), and removes one with a reason (support)", async () => {
    const { setup: phone } = await enrol(client, panel, 'multi-mia', { label: 'Phone' });
    const backup = await client.typed(panel).users.setup('multi-mia', { add: true, label: 'Backup' });
    await client.typed(panel).users.confirm('multi-mia', codeFor(backup));
    const listed = await tfa(['users', 'authenticators', 'multi-mia'], { key: support });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+LABEL/);
    assert.match(listed.stdout, new RegExp(`${phone.authenticatorId}\\s+Phone\\s`));
    assert.match(listed.stdout, new RegExp(`${backup.authenticatorId}\\s+Backup\\s`));
    assert.ok(!listed.stdout.includes(phone.secret), 'never a secret');
    const renamed = await tfa(
      ['users', 'rename-authenticator', 'multi-mia', phone.authenticatorId, 'Old phone'],
      {
        key: panel,
      },
    );
    assert.equal(renamed.code, 0, renamed.stderr);
    assert.match(renamed.stdout, /to "Old phone"/);
    const taken = await tfa(['users', 'rename-authenticator', 'multi-mia', phone.authenticatorId, 'backup'], {
      key: panel,
    });
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /label_taken/);
    const removed = await tfa(
      ['users', 'remove', 'multi-mia', '--authenticator', phone.authenticatorId, '--reason', 'lost phone'],
      { key: support },
    );
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, new RegExp(`Removed authenticator ${phone.authenticatorId} of multi-mia`));
    const again = await tfa(
      ['users', 'remove', 'multi-mia', '--authenticator', phone.authenticatorId, '--reason', 'lost phone'],
      { key: support },
    );
    assert.equal(again.code, 1, 'nothing removed: exit 1');
    const left = await tfaJson(['users', 'status', 'multi-mia'], support);
    assert.deepEqual(
      left.authenticators.map((a: { label: string }) => a.label),
      ['Backup'],
    );
    const human = await tfa(['users', 'list'], { key: support });
    assert.match(human.stdout, /AUTHENTICATORS/);
  });

  it('an unlock that changes nothing says so, and exits 1', async () => {
    const nobody = await tfa(['users', 'unlock', 'never-enrolled'], { key: support });
    assert.equal(nobody.code, 1, nobody.stdout + nobody.stderr);
    assert.match(nobody.stdout, /^never-enrolled is not enrolled: nothing to unlock\.\n/);
    const fine = await tfa(['users', 'unlock', 'alice'], { key: support });
    assert.equal(fine.code, 1, fine.stdout + fine.stderr);
    assert.match(fine.stdout, /^alice was not locked: nothing to unlock\.\n/);
  });

  it('support removes 2FA for a file of users, with a report naming each outcome', async () => {
    const file = join(work, 'offboard.csv');
    writeFileSync(file, ['userId', 'alice', 'bob', 'nobody', 'bad user', 'alice', ''].join('\n'));
    const report = join(work, 'offboard-report.csv');
    const run = await tfa(
      ['users', 'remove', '--from-file', file, '--reason', 'ticket 4711', '--report', report, '--json'],
      {
        key: support,
      },
    );
    assert.equal(run.code, 1, 'one user failed, so the run exits 1');
    const summary = JSON.parse(run.stdout);
    assert.deepEqual(
      { ...summary, failures: summary.failures.map((f: any) => [f.userId, f.code]) },
      { removed: 2, notEnrolled: 1, failed: 1, skipped: 0, failures: [['bad user', 'invalid_user_id']] },
    );
    assert.match(run.stderr, /report: .*offboard-report\.csv/);
    assert.deepEqual(
      reportRows(report)
        .map(([id, outcome]) => `${id}=${outcome}`)
        .sort(),
      ['alice=removed', 'bad user=invalid_user_id', 'bob=removed', 'nobody=not_enrolled'],
    );
    assert.equal((await client.typed(support).users.status('alice')).enabled, false);
  });

  it('without --report, the report is tfa-remove-<time>.csv in the current folder, which git ignores', async () => {
    const file = join(work, 'one.txt');
    writeFileSync(file, 'never-there\n');
    const run = await tfa(['users', 'remove', '--from-file', file, '--reason', 'tidy'], { key: support });
    assert.equal(run.code, 0, run.stderr);
    const name = /report: (tfa-remove-[0-9TZ-]+\.csv)\n/.exec(run.stderr)?.[1];
    assert.ok(name && existsSync(join(work, name)), run.stderr);
    // The pattern of .gitignore covers it: a report in the project folder is never committed.
    await promisify(execFile)('git', ['check-ignore', '-q', '--no-index', name], { cwd: PROJECT_ROOT });
  });

  it('Ctrl-C writes the report; --resume skips what it shows as done', async () => {
    const many = Array.from({ length: 24 }, (_, i) => `staff${String(i).padStart(2, '0')}`);
    for (const userId of many) await enrol(client, panel, userId);
    const file = join(work, 'staff.txt');
    writeFileSync(file, many.join('\n') + '\n');
    const report = join(work, 'staff-report.csv');
    // A slow link, so that the interrupt lands in the middle of the run.
    const slow = await startFaultProxy(service.url);
    slow.add({ target: '', fault: { delayMs: 120 } });
    const child = spawn(
      process.execPath,
      [
        TFA_BIN,
        'users',
        'remove',
        '--from-file',
        file,
        '--reason',
        'leavers',
        '--report',
        report,
        '--concurrency',
        '2',
      ],
      {
        cwd: work,
        env: { PATH: process.env.PATH, TFA_URL: slow.url, TFA_KEY: support },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    while (!existsSync(report) || reportRows(report).length < 4)
      await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    assert.match(stderr, /resume with --resume .*staff-report\.csv/);
    const done = reportRows(report);
    assert.ok(done.length >= 4 && done.length < many.length, `${done.length} done before the interrupt`);
    assert.ok(done.every(([, outcome]) => outcome === 'removed'));

    const resumed = await tfaJson(
      ['users', 'remove', '--from-file', file, '--reason', 'leavers', '--resume', report, '--report', report],
      support,
    );
    assert.deepEqual(resumed, {
      removed: many.length - done.length,
      notEnrolled: 0,
      failed: 0,
      skipped: done.length,
      failures: [],
    });
    assert.deepEqual(
      reportRows(report)
        .map(([id]) => id)
        .sort(),
      many,
      'the resumed report is the whole record',
    );
    // Removed, not forgotten: each stays registered, without an authenticator.
    const left = await client.typed(support).users.list({ limit: 100 });
    const staff = left.users.filter((u) => u.userId.startsWith('staff'));
    assert.deepEqual(
      staff.filter((u) => u.enabled || u.pending || !u.registered),
      [],
    );
  });

  it('the audit trail shows each removal with its reason and who did it', async () => {
    const alice = await tfaJson(['audit', '--user', 'alice'], support);
    const removal = alice.events.find((e: any) => e.action === 'remove');
    assert.equal(removal.reason, 'ticket 4711');
    assert.equal(removal.actor.name, 'support-desk');
    const all = await tfaJson(['audit', '--all', '--limit', '50'], support);
    const removals = all.events.filter((e: any) => e.action === 'remove' && e.reason === 'leavers');
    assert.equal(removals.length, 24, 'each staff removal once, across pages');
    const human = await tfa(['audit', '--user', 'alice', '--limit', '3'], { key: support });
    assert.match(human.stdout, /^AT\s+ACTION\s+USER\s+ACTOR\s+OUTCOME\s+REASON\n/);
    assert.match(human.stdout, /remove\s+alice\s+support-desk\s+success\s+ticket 4711/);
  });

  it('the operator makes a way back in, and deletes a tenant', async () => {
    const key = await tfaJson(
      ['tenants', 'key', 'acme', '--name', 'recovery', '--scopes', 'admin'],
      operatorKey,
    );
    assert.deepEqual(key.scopes, ['admin']);
    await tfaJson(['tenants', 'create', 'leaving'], operatorKey);
    const deleted = await tfa(['tenants', 'delete', 'leaving', '--reason', 'contract ended'], {
      key: operatorKey,
    });
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /Deleted tenant leaving/);
  });

  it('exit codes: 1 when the API refuses, naming its code on stderr; 2 for usage errors', async () => {
    const refused = await tfa(['keys', 'list'], { key: support });
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.match(
      refused.stderr,
      /^error: forbidden: this route needs a key with the scope admin \(request \S+\)\n$/,
    );
    const unknown = await tfa(['users', 'status', 'bad user'], { key: support });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /invalid_user_id/);

    for (const args of [
      ['users', 'remove', 'bob'],
      ['users', 'remove', 'bob', '--from-file', 'x', '--reason', 'r'],
      ['bogus'],
      ['users', 'list', '--limit', 'ten'],
      ['settings', 'set', '--policy', 'sometimes'],
      ['settings', 'set'],
    ]) {
      const run = await tfa(args, { key: admin });
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.notEqual(run.stderr, '');
    }
    const keyless = await tfa(['users', 'list']);
    assert.equal(keyless.code, 2);
    assert.match(keyless.stderr, /no key: set TFA_KEY or pass --key/);
  });

  it('help for every command, without the key in it', async () => {
    for (const args of [
      [],
      ['tenants'],
      ['users', 'remove'],
      ['settings', 'set'],
      ['audit'],
      ['keys', 'create'],
    ]) {
      const run = await tfa([...args, '--help'], { key: admin });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^Usage: tfa/);
      assert.ok(!run.stdout.includes(admin), 'help never prints the key');
    }
  });

  it('runs as `npx tfa` from the project', async () => {
    const { stdout } = await promisify(execFile)('npx', ['--no-install', 'tfa', '--help'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, npm_config_offline: 'true' },
    });
    assert.match(stdout, /^Usage: tfa \[options\] \[command\]/);
  });
});

describe('tfa import cpanel', () => {
  let admin: string;
  let panel: string;
  const secretOf = new Map<string, string>();
  const secret = (login: string) => {
    const value = encodeSecret(randomBytes(10));
    secretOf.set(login, value);
    return value;
  };

  it('moves a WHM export here in one call: the codes the apps show keep working', async () => {
    admin = (await tfaJson(['tenants', 'create', 'moving', '--issuer', 'Moving Hosting'], operatorKey)).apiKey
      .secret;
    panel = (await tfaJson(['keys', 'create', '--name', 'panel', '--scopes', 'users'], admin)).secret;
    const file = join(work, 'whm.json');
    writeFileSync(
      file,
      JSON.stringify({
        data: {
          mona: {
            primary_account: { secret: secret('mona') },
            email: { 'mona@example.com': { secret: secret('mona@example.com') } },
          },
        },
        metadata: { result: 1 },
      }),
    );
    const dry = await tfaJson(['import', 'cpanel', file, '--dry-run'], admin);
    assert.deepEqual(dry.counts, { imported: 2, unchanged: 0, conflict: 0, invalid: 0, skipped: 0 });
    assert.equal(dry.dryRun, true);
    assert.equal(
      (await client.typed(admin).users.status('mona')).enabled,
      false,
      'a dry run changed nothing',
    );

    const human = await tfa(['import', 'cpanel', file], { key: admin });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^Imported 2, unchanged 0, conflict 0, invalid 0, skipped 0\.\n/);
    // The weak logins are named, so that "have them reconfigure" can be followed.
    assert.match(
      human.stdout,
      /\n2 with weak secrets \(short, or weak at their source\): mona, mona@example\.com\.\nHave each of them reconfigure/,
    );
    assert.deepEqual((await tfaJson(['import', 'cpanel', file, '--dry-run'], admin)).weakLogins, [
      'mona',
      'mona@example.com',
    ]);
    const status = await tfa(['users', 'status', 'mona'], { key: admin });
    assert.match(status.stdout, /source:\s+import\n/);
    assert.match(status.stdout, /weak secret:\s+yes: shorter than 128 bits/);
    const list = await tfa(['users', 'list'], { key: admin });
    assert.match(
      list.stdout,
      /^USER\s+ENABLED\s+PENDING\s+AUTHENTICATORS\s+DISABLED\s+SOURCE\s+WEAK SECRET\s/,
    );
    assert.match(list.stdout, /\nmona\s+yes\s+no\s+1\s+no\s+import\s+yes\s/);
    await freshStep();
    const code = codeFor({
      secret: secretOf.get('mona') as string,
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
    assertAccepted(await client.typed(panel).users.verify('mona', code));
  });

  it('splits a file of 1,500 logins into calls of at most 1,000, and merges one summary in order', async () => {
    const logins = Array.from({ length: 1500 }, (_, i) => `login${String(i).padStart(4, '0')}`);
    const file = join(work, 'tfa_userdata.json');
    const source = Object.fromEntries(logins.map((login) => [login, { secret: secret(login) }]));
    source['bad user'] = { secret: secret('bad user') };
    writeFileSync(file, JSON.stringify(source));
    const run = await tfa(['import', 'cpanel', file, '--json', '--issuer', 'Old cPanel'], { key: admin });
    assert.equal(run.code, 1, 'an invalid login: exit 1');
    const summary = JSON.parse(run.stdout);
    assert.deepEqual(summary.counts, { imported: 1500, unchanged: 0, conflict: 0, invalid: 1, skipped: 0 });
    assert.deepEqual(
      summary.results.map((r: any) => r.userId),
      [...logins, 'bad user'],
    );
    assert.ok(!run.stdout.includes(secretOf.get('login0001') as string), 'no secret in the summary');
    const again = await tfaJson(['import', 'cpanel', join(work, 'whm.json')], admin);
    assert.equal(again.counts.unchanged, 2, 'a second run changes nothing');
  });

  it('a connection broken after the service imported a part: that call is sent again under its key, and every login counts as imported once', async () => {
    // The wire between the command and the service drops the reply of the second call,
    // after the service imported its logins: without a key, its retry would answer unchanged.
    const wire = await startFaultProxy(service.url);
    const logins = Array.from({ length: 1200 }, (_, i) => `cut${String(i).padStart(4, '0')}`);
    const file = join(work, 'cut.json');
    writeFileSync(
      file,
      JSON.stringify(Object.fromEntries(logins.map((login) => [login, { secret: secret(login) }]))),
    );
    wire.add({ target: 'POST /v1/import/cpanel', bodyIncludes: '"cut1100"', fault: 'drop-reply', times: 1 });
    const run = await tfa(['import', 'cpanel', file, '--json'], { key: admin, url: wire.url });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).counts, {
      imported: 1200,
      unchanged: 0,
      conflict: 0,
      invalid: 0,
      skipped: 0,
    });
    assert.equal(wire.faulted(), 1, 'a reply was lost');
    const calls = wire.seen.filter((s) => s.target === 'POST /v1/import/cpanel');
    assert.equal(calls.length, 3, 'two calls, the second sent again');
  });

  it('the other formats: a twofactor-users file of 1,500 lines in two calls, a CyberPanel table under its header, a report file', async () => {
    const users = Array.from({ length: 1500 }, (_, i) => `vuser${String(i).padStart(4, '0')}`);
    const file = join(work, 'twofactor-users');
    writeFileSync(
      file,
      ['# Virtualmin', ...users.map((u) => `${u}:totp:${secret(u)}`), 'legacy:authy:123:abc', ''].join('\n'),
    );
    const report = join(work, 'webmin-report.json');
    const run = await tfa(['import', 'webmin', file, '--json', '--report', report], { key: admin });
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout);
    assert.equal(summary.format, 'webmin');
    assert.deepEqual(summary.counts, { imported: 1500, unchanged: 0, conflict: 0, invalid: 0, skipped: 1 });
    assert.deepEqual(JSON.parse(readFileSync(report, 'utf8')), summary, 'the report holds the same');
    assert.deepEqual(summary.results.at(-1), { userId: 'legacy', outcome: 'unsupported' });
    assert.equal(summary.weakLogins.length, 1500, 'every Webmin secret is non_csprng');

    const table = join(work, 'cyberpanel.tsv');
    writeFileSync(
      table,
      `userName\temail\ttwoFA\tsecretKey\ncyadmin\tcy@example.net\t1\t${secret('cyadmin')}\ncyuser\tu@example.net\t0\tNone\n`,
    );
    const cyber = await tfa(['import', 'cyberpanel', table], { key: admin });
    assert.equal(cyber.code, 0, cyber.stderr);
    assert.match(cyber.stdout, /^Imported 1, unchanged 0, conflict 0, invalid 0, skipped 1\.\n/);
    await freshStep();
    const code = codeFor({ secret: secretOf.get('vuser0001') as string });
    assertAccepted(await client.typed(panel).users.verify('vuser0001', code));
  });

  it('refuses a file that is not JSON as a usage error', async () => {
    const file = join(work, 'broken.json');
    writeFileSync(file, '{"bob": ');
    const run = await tfa(['import', 'cpanel', file], { key: admin });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /broken\.json/);
  });
});

describe('tfa users unlock of a disabled user (on a clock of its own: it moves it by hours)', () => {
  const clock = movableClock();

  it('says the user is still disabled, names what lifts it, and exits 1', async () => {
    const keys = await tenantWith(client, operatorKey, 'disabling', {
      lockout: { maxFailures: 4, lockSeconds: 600 },
    });
    await enrol(client, keys.users, 'dina');
    // 100 failures, four at a time, each lock waited out on the service's clock.
    for (let round = 0; round < 25; round++) {
      for (let i = 0; i < 4; i++) await client.typed(keys.users).users.verify('dina', '000000');
      clock.advance(601_000);
    }
    assert.deepEqual(
      (await tfaJson(['users', 'list', '--status', 'disabled'], keys.support)).users.map(
        (u: any) => u.userId,
      ),
      ['dina'],
    );
    const run = await tfa(['users', 'unlock', 'dina'], { key: keys.support });
    assert.equal(run.code, 1);
    assert.match(
      run.stdout,
      /^Not locked, but dina is still disabled after 100 failures: remove two-factor authentication \(tfa users remove\) to let the user enrol again\.\n/,
    );
  });
});

describe('tfa users register and tfa report enrolment', () => {
  it('the admin requires enrolment; support registers a file with its own due date, one user exempt, and resumes', async () => {
    const keys = await tenantWith(client, operatorKey, 'rollout', { issuer: 'Rollout Hosting' });
    const deadline = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const wrong = await tfa(['settings', 'set', '--deadline', 'soon'], { key: keys.admin });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /--deadline.*must be a date \(2027-01-31\)/);
    const set = await tfaJson(
      ['settings', 'set', '--require-enrolment', 'yes', '--deadline', deadline, '--grace-days', '7'],
      keys.admin,
    );
    assert.deepEqual(set.enrolment, { required: true, deadline: `${deadline}T00:00:00.000Z`, graceDays: 7 });
    assert.match((await tfa(['settings', 'get'], { key: keys.admin })).stdout, /enrolment:\s+required\n/);

    const file = join(work, 'accounts.csv');
    writeFileSync(
      file,
      ['userId,plan', 'ann,basic', 'ben,pro', '', 'cat,pro', 'bad user,x', 'ann,basic'].join('\n'),
    );
    const report = join(work, 'register-report.csv');
    const run = await tfa(
      ['users', 'register', '--from-file', file, '--due', '2026-01-01', '--report', report, '--json'],
      { key: keys.support },
    );
    assert.equal(run.code, 1, 'one id is refused, so the run exits 1');
    const summary = JSON.parse(run.stdout);
    assert.deepEqual(
      { ...summary, failures: summary.failures.map((f: any) => [f.userId, f.code]) },
      { registered: 3, failed: 1, skipped: 0, failures: [['bad user', 'invalid_user_id']] },
    );
    assert.deepEqual(
      reportRows(report)
        .map(([id, outcome]) => `${id}=${outcome}`)
        .sort(),
      ['ann=registered', 'bad user=invalid_user_id', 'ben=registered', 'cat=registered'],
    );
    // Resumed: what the report shows as registered is skipped; the refused id is tried again.
    const again = await tfa(
      ['users', 'register', '--from-file', file, '--resume', report, '--report', report, '--json'],
      { key: keys.support },
    );
    assert.equal(again.code, 1);
    assert.deepEqual(
      { ...JSON.parse(again.stdout), failures: [] },
      { registered: 0, failed: 1, skipped: 3, failures: [] },
    );

    const one = await tfa(['users', 'register', 'dan', '--exempt'], { key: keys.support });
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, 'dan: registered, exempt.\n');
    const eve = await tfa(['users', 'register', 'eve'], { key: keys.support });
    assert.equal(eve.stdout, `eve: registered, due (due ${deadline}T00:00:00.000Z).\n`);
    await enrol(client, keys.users, 'fay');
    for (const args of [
      ['users', 'register'],
      ['users', 'register', 'gus', '--from-file', file],
      ['users', 'register', 'gus', '--due', 'tomorrow'],
    ]) {
      const refused = await tfa(args, { key: keys.support });
      assert.equal(refused.code, 2, `${args.join(' ')}: a usage error`);
    }

    const counts = await tfa(['report', 'enrolment'], { key: keys.support });
    assert.equal(counts.code, 0, counts.stderr);
    assert.match(
      counts.stdout,
      new RegExp(`^Enrolment required; deadline ${deadline}T00:00:00.000Z; grace 7 days;`),
    );
    assert.match(
      counts.stdout,
      /REGISTERED\s+ENROLLED\s+UNENROLLED\s+DUE\s+OVERDUE\s+EXEMPT\n6\s+1\s+4\s+1\s+3\s+1\n/,
    );
    const out = join(work, 'overdue.csv');
    const listed = await tfa(['report', 'enrolment', '--status', 'overdue', '--out', out], {
      key: keys.support,
    });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stderr, /3 overdue users: .*overdue\.csv/);
    assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n'), [
      'userId,state,dueAt,authenticators',
      'ann,overdue,2026-01-01T00:00:00.000Z,0',
      'ben,overdue,2026-01-01T00:00:00.000Z,0',
      'cat,overdue,2026-01-01T00:00:00.000Z,0',
    ]);
    const json = await tfaJson(['report', 'enrolment'], keys.support);
    assert.deepEqual(json.counts, {
      registered: 6,
      enrolled: 1,
      unenrolled: 4,
      due: 1,
      overdue: 3,
      exempt: 1,
    });
    const bad = await tfa(['report', 'enrolment', '--status', 'late'], { key: keys.support });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--status must be one of unenrolled, due, overdue, exempt/);
  });
});

describe('tfa webhooks', () => {
  it('adds an endpoint (its secret shown once), lists, shows, pauses, resumes, rotates and deletes it', async () => {
    const keys = await tenantWith(client, operatorKey, 'hooked', { issuer: 'Hooked Hosting' });
    const added = await tfa(
      ['webhooks', 'add', 'https://93.184.216.34/hooks', '--events', 'tfa.user.locked,tfa.user.removed'],
      { key: keys.admin },
    );
    assert.equal(added.code, 0, added.stderr);
    const secret = /^secret: (whsec_\S+)$/m.exec(added.stdout)?.[1];
    assert.ok(secret, added.stdout);
    assert.match(added.stdout, /not shown again/);
    const id = /^id:\s+(wh_[0-9a-f]+)$/m.exec(added.stdout)?.[1] as string;
    assert.ok(id, added.stdout);
    const listed = await tfa(['webhooks', 'list'], { key: keys.admin });
    assert.match(
      listed.stdout,
      new RegExp(
        `^${id}\\s+active\\s+https://93\\.184\\.216\\.34/hooks\\s+tfa\\.user\\.locked,tfa\\.user\\.removed$`,
        'm',
      ),
    );
    assert.ok(
      !listed.stdout.includes(secret) &&
        !(await tfa(['webhooks', 'show', id], { key: keys.admin })).stdout.includes(secret),
    );
    assert.equal((await tfaJson(['webhooks', 'pause', id], keys.admin)).status, 'paused');
    // Paused, so nothing is sent from this closed network: the message waits, listed pending.
    const queued = await tfa(['webhooks', 'test', id], { key: keys.admin });
    assert.equal(queued.code, 0, queued.stderr);
    const messageId = /^Queued (msg_[0-9a-z]+):/.exec(queued.stdout)?.[1] as string;
    assert.ok(messageId, queued.stdout);
    const listedDeliveries = await tfa(['webhooks', 'deliveries', id], { key: keys.admin });
    assert.match(
      listedDeliveries.stdout,
      new RegExp(
        `^MESSAGE\\s+TYPE\\s+STATUS[^\\n]*\\n${messageId}\\s+tfa\\.webhook\\.test\\s+pending\\s+0\\s+-`,
      ),
    );
    assert.equal(
      (await tfa(['webhooks', 'redeliver', id, messageId], { key: keys.admin })).stdout,
      `Queued ${messageId} again.\n`,
    );
    assert.equal((await tfaJson(['webhooks', 'resume', id], keys.admin)).status, 'active');
    const rotated = await tfaJson(['webhooks', 'rotate', id], keys.admin);
    assert.match(rotated.secret, /^whsec_/);
    assert.notEqual(rotated.secret, secret);
    assert.deepEqual(await tfaJson(['webhooks', 'delete', id], keys.admin), { id, deleted: true });

    const inside = await tfa(['webhooks', 'add', 'https://10.0.0.1/hooks'], { key: keys.admin });
    assert.equal(inside.code, 1);
    assert.match(inside.stderr, /^error: invalid_webhook_url: 10\.0\.0\.1 resolves to a private address/m);
    const unknown = await tfa(['webhooks', 'add', 'https://93.184.216.34/', '--events', 'tfa.everything'], {
      key: keys.admin,
    });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /invalid_webhook: events: "tfa.everything" is not an event type/);
    assert.equal((await tfa(['webhooks', 'add', '--help'], { key: keys.admin })).code, 0);
  });
});

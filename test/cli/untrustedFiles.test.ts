import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runTfa } from '../support/cli.ts';
import { startTestService } from '../support/service.ts';

/**
 * Files the CLI reads are untrusted: an export from an old server, a copy anyone
 * could have altered. A poisoned export once set `Object.prototype.url` through the
 * import's chunk merging, and the CLI then sent the admin key and every secret of the
 * file to the server the file named. Here the file names a stand-in server that must
 * receive nothing, in every shape the export can take.
 */

const service = await startTestService();
const work = mkdtempSync(join(tmpdir(), 'tfa-untrusted-'));
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** The attacker's server: it records whatever reaches it. */
const received: { method?: string; url?: string; authorization?: string }[] = [];
const attacker = createServer((req: IncomingMessage, res) => {
  received.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"dryRun":true,"counts":{"imported":0,"unchanged":0,"conflict":0,"invalid":0},"results":[]}');
});
await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
after(() => attacker.close());
const address = attacker.address();
const attackerUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

const tfa = (args: string[], key: string) => runTfa(args, { cwd: work, url: service.url, key });

/** Exports that try to reach a prototype through every key a parser meets. */
const poisoned: Record<string, string> = {
  'a tfa_userdata.json login named __proto__': `{"__proto__": {"url": "${attackerUrl}"}, "alice": {"secret": "${SECRET}"}}`,
  'a WHM account named __proto__': `{"data": {"__proto__": {"email": {"url": "${attackerUrl}"}, "primary_account": {"secret": "${SECRET}"}}}, "metadata": {}}`,
  'a WHM part holding __proto__': `{"acct": {"email": {"__proto__": {"url": "${attackerUrl}"}, "a@b.example": {"secret": "${SECRET}"}}}}`,
  'constructor and prototype logins': `{"constructor": {"prototype": {"url": "${attackerUrl}"}}, "prototype": {"secret": "${SECRET}"}}`,
  'a team named __proto__ twice': `{"acct": {"team": {"__proto__": {"url": "${attackerUrl}"}}}, "acct2": {"team": {"__proto__": {"key": "stolen"}}}}`,
};

describe('the CLI reading a poisoned export', () => {
  let admin: string;
  it('has a tenant to import into', async () => {
    admin = await service.client.tenant(service.operatorKey, 'poisoned');
  });

  for (const [name, text] of Object.entries(poisoned)) {
    for (const dryRun of [true, false]) {
      it(`sends nothing to a server the file names: ${name}${dryRun ? ', --dry-run' : ''}`, async () => {
        const file = join(work, 'export.json');
        writeFileSync(file, text);
        received.length = 0;
        const run = await tfa(['import', 'cpanel', file, '--json', ...(dryRun ? ['--dry-run'] : [])], admin);
        assert.deepEqual(received, [], 'the attacker received a request');
        // The import went to the configured service, and its keys were logins like any other.
        const answer = JSON.parse(run.stdout);
        assert.equal(answer.dryRun, dryRun);
        assert.ok(answer.results.length > 0, run.stdout);
        for (const result of answer.results) assert.equal(typeof result.userId, 'string');
      });
    }
  }

  it('imports a login named __proto__ as a user of that name', async () => {
    const own = await service.client.tenant(service.operatorKey, 'proto-user');
    const file = join(work, 'proto-user.json');
    writeFileSync(file, `{"__proto__": {"secret": "${SECRET}"}}`);
    const run = await tfa(['import', 'cpanel', file, '--json'], own);
    assert.equal(run.code, 0, run.stderr);
    const answer = JSON.parse(run.stdout);
    assert.deepEqual(answer.results, [
      { userId: '__proto__', outcome: 'imported', weakSecret: false, weakReasons: [] },
    ]);
    const status = await service.client.typed(own).users.status('__proto__');
    assert.equal(status.enabled, true);
  });
});

// Any control character but the newline that ends a line.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/;

describe('the CLI writing what came from a file', () => {
  it('a removal report neutralises formulas and control characters; the terminal shows them escaped; --resume reads it back', async () => {
    const admin = await service.client.tenant(service.operatorKey, 'csv-injection');
    const support = await service.client.key(admin, ['support']);
    // Ids a file may hold: valid ones that start like formulas, and invalid ones that
    // are formulas or carry a terminal's escape sequence, a CR or a newline.
    const ids = [
      '+1+1',
      '-2',
      '@admin',
      '=HYPERLINK("http://attacker.example","x")',
      '@SUM(1+1)',
      'evil\u001b[2Jcleared',
      'line\rover',
      'two\nlines',
      '\tTAB',
    ];
    const file = join(work, 'users.csv');
    writeFileSync(file, ['userId', ...ids.map((id) => `"${id.replaceAll('"', '""')}"`)].join('\n'));
    const report = join(work, 'report.csv');
    const run = await tfa(
      ['users', 'remove', '--from-file', file, '--reason', 'test', '--report', report],
      support,
    );
    assert.equal(run.code, 1, 'the invalid ids are refused');
    const written = readFileSync(report, 'utf8');
    const lines = written.trimEnd().split('\n');
    assert.equal(lines.length, ids.length + 1, written);
    for (const line of lines.slice(1)) {
      // No cell starts a formula: a quoted cell starts with "', an unquoted one with '.
      for (const cell of line.match(/("([^"]|"")*"|[^,]*)(,|$)/g) ?? []) {
        assert.doesNotMatch(cell.replace(/^"/, ''), /^[=+\-@\t\r]/, line);
      }
    }
    assert.doesNotMatch(written, CONTROL, 'no control character in the report');
    for (const output of [run.stdout, run.stderr]) {
      assert.doesNotMatch(output, CONTROL, 'no control character on the terminal');
    }
    assert.match(run.stdout, /evil\\x1b\[2Jcleared/);

    // Resumed, the ids read back are the ids of the file: the valid ones are settled.
    const again = join(work, 'report2.csv');
    const resumed = await tfa(
      ['users', 'remove', '--from-file', file, '--reason', 'test', '--resume', report, '--report', again],
      support,
    );
    assert.match(resumed.stdout, /skipped 3 \(of 9\)/, resumed.stdout);
  });
});

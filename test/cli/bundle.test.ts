import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { currentBundle } from '../../bin/cliBundle.js';
import { PROJECT_ROOT } from '../../lib/local/service.ts';
import { runTfa } from '../support/cli.ts';

// `tfa` starts from the CLI compiled at install, with no compiler on the way, but only
// while that build matches the sources: an edited source runs as it is now.
describe('the compiled CLI (npm run build:cli, bin/cliBundle.js)', () => {
  it('is used while every source it was built from is unchanged, and not once one changes', () => {
    const root = mkdtempSync(join(tmpdir(), 'tfa-bundle-'));
    mkdirSync(join(root, 'cli'));
    mkdirSync(join(root, 'dist/cli'), { recursive: true });
    writeFileSync(join(root, 'cli/main.ts'), 'export {};');
    writeFileSync(join(root, 'dist/cli/main.mjs'), 'export {};');
    assert.equal(currentBundle(root), undefined, 'no list of sources: not used');
    const inputs = { 'cli/main.ts': statSync(join(root, 'cli/main.ts')).mtimeMs };
    writeFileSync(join(root, 'dist/cli/inputs.json'), JSON.stringify(inputs));
    assert.equal(currentBundle(root), join(root, 'dist/cli/main.mjs'));
    utimesSync(join(root, 'cli/main.ts'), new Date(), new Date(Date.now() + 5000));
    assert.equal(currentBundle(root), undefined, 'an edited source: the source runs');
    writeFileSync(join(root, 'dist/cli/inputs.json'), JSON.stringify({ 'cli/gone.ts': 1 }));
    assert.equal(currentBundle(root), undefined, 'a source that is gone: the source runs');
  });

  it('the project’s own build is current after npm run build:cli, and runs tfa', async () => {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'cli/bundle.ts'], { cwd: PROJECT_ROOT });
    assert.equal(currentBundle(PROJECT_ROOT), join(PROJECT_ROOT, 'dist/cli/main.mjs'));
    const help = await runTfa(['--help'], { cwd: PROJECT_ROOT, url: 'http://127.0.0.1:9' });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: tfa \[options\] \[command\]/);
  });
});

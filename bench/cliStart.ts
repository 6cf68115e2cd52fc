import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/local/service.ts';
import { percentile } from './percentile.ts';

/**
 * How long `tfa --help` takes, from a fresh node process to its exit: the compiled
 * CLI (dist/cli, built first, as npm ci does) and, for comparison, the TypeScript
 * through tsx (what runs while the build is stale). npx's own time is not counted.
 */
export function measureCliStart(runs = Number(process.env.BENCH_CLI_RUNS ?? 9)) {
  const node = (args: string[]) => {
    const run = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${args.join(' ')} failed: ${run.stderr}`);
  };
  node(['--import', 'tsx', join(PROJECT_ROOT, 'cli/bundle.ts')]);
  const time = (args: string[]) => {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      node(args);
      times.push(performance.now() - started);
    }
    return Number(percentile(times, 50).toFixed(1));
  };
  return {
    runs,
    compiledMs: time([join(PROJECT_ROOT, 'bin/tfa.js'), '--help']),
    throughTsxMs: time([
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      "const { main } = await import('./cli/main.ts'); process.exitCode = await main(['--help']);",
    ]),
  };
}

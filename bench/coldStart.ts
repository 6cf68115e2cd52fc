import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../lib/local/service.ts';

const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 9);

/** The esbuild options serverless.yml deploys with, read from it so the two cannot drift. */
function deployedOptions(): { options: BuildOptions; nodeOptions: string } {
  const config = parse(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8'));
  const {
    exclude: _exclude,
    outputFileExtension: _ext,
    packager: _packager,
    ...options
  } = config.custom.esbuild;
  return { options: options as BuildOptions, nodeOptions: config.provider.environment.NODE_OPTIONS ?? '' };
}

export async function measureColdStarts() {
  const dir = mkdtempSync(join(tmpdir(), 'tfa-bundles-'));
  const { options, nodeOptions } = deployedOptions();
  const config = parse(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8'));
  const bundle = async (name: string, entry: string | { contents: string }) => {
    const outdir = join(dir, name);
    await build({
      ...options,
      ...(typeof entry === 'string'
        ? { entryPoints: { index: join(PROJECT_ROOT, entry) } }
        : { stdin: { contents: entry.contents, resolveDir: PROJECT_ROOT, loader: 'ts' } }),
      outdir,
      outExtension: { '.js': '.mjs' },
      logLevel: 'silent',
    });
    const file = join(outdir, typeof entry === 'string' ? 'index.mjs' : 'stdin.mjs');
    return { file, bytes: statSync(file).size };
  };
  const measure = (file: string) => {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const run = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`,
        ],
        { env: { ...process.env, NODE_OPTIONS: nodeOptions }, encoding: 'utf8' },
      );
      if (run.status !== 0) throw new Error(`importing ${file} failed: ${run.stderr}`);
      times.push(Number(run.stdout));
    }
    times.sort((a, b) => a - b);
    return Number((times[Math.floor(times.length / 2)] ?? 0).toFixed(1));
  };

  const references: Record<string, { bytes: number; importMs: number }> = {};
  const refs = {
    emptyModule: { contents: 'export const handler = async () => ({});' },
    dynamodbClientOnly: {
      contents:
        "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; export const handler = async () => new DynamoDBClient({});",
    },
    naiveEverything: {
      contents: [
        "import * as dynamodb from '@aws-sdk/client-dynamodb';",
        "import * as kms from '@aws-sdk/client-kms';",
        "import * as ssm from '@aws-sdk/client-ssm';",
        "import QRCode from 'qrcode';",
        'export const handler = async () => [dynamodb, kms, ssm, QRCode];',
      ].join('\n'),
    },
  };
  for (const [name, entry] of Object.entries(refs)) {
    const { file, bytes } = await bundle(name, entry);
    references[name] = { bytes, importMs: measure(file) };
  }
  const functions: Record<string, { bytes: number; importMs: number }> = {};
  for (const [name, fn] of Object.entries(config.functions as Record<string, { handler: string }>)) {
    const { file, bytes } = await bundle(name, `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.ts`);
    functions[name] = { bytes, importMs: measure(file) };
  }
  writeFileSync(join(dir, 'README'), 'bundles built by bench/coldStart.ts\n');
  return { nodeOptions, references, functions };
}

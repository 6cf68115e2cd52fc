import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../lib/local/service.ts';
import { percentile } from './percentile.ts';

const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 41);

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
    const result = await build({
      metafile: true,
      ...options,
      // The metafile's paths are relative to this folder: fixed, so they are read back right.
      absWorkingDir: PROJECT_ROOT,
      ...(typeof entry === 'string'
        ? { entryPoints: { index: join(PROJECT_ROOT, entry) } }
        : { stdin: { contents: entry.contents, resolveDir: PROJECT_ROOT, loader: 'ts' } }),
      outdir,
      outExtension: { '.js': '.mjs' },
      logLevel: 'silent',
    });
    const file = join(outdir, typeof entry === 'string' ? 'index.mjs' : 'stdin.mjs');
    if (!result.metafile) throw new Error(`${name}: esbuild gave no metafile`);
    return {
      file,
      bytes: closureBytes(result.metafile, file, false),
      withLazyChunksBytes: closureBytes(result.metafile, file, true),
    };
  };
  /** One fresh node process importing `file`: milliseconds until the import resolved. */
  const importOnce = (file: string) => {
    {
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
      return Number(run.stdout);
    }
  };
  // Every bundle once per round, rounds interleaved: a busy moment of the machine
  // falls on all of them alike, not on one.
  const measureAll = (files: Record<string, string>) => {
    const times: Record<string, number[]> = {};
    for (let round = 0; round < RUNS; round++) {
      for (const [name, file] of Object.entries(files)) (times[name] ??= []).push(importOnce(file));
    }
    return Object.fromEntries(
      Object.entries(times).map(([name, t]) => {
        const at = (p: number) => Number(percentile(t, p).toFixed(1));
        return [name, { p50: at(50), p99: at(99) }];
      }),
    );
  };

  const built: Record<string, { file: string; bytes: number; withLazyChunksBytes: number }> = {};
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
  for (const [name, entry] of Object.entries(refs)) built[name] = await bundle(name, entry);
  const functionNames = Object.keys(config.functions as Record<string, { handler: string }>);
  for (const [name, fn] of Object.entries(config.functions as Record<string, { handler: string }>)) {
    built[name] = await bundle(name, `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.ts`);
  }
  const times = measureAll(Object.fromEntries(Object.entries(built).map(([name, b]) => [name, b.file])));
  const entry = (name: string) => ({
    bytes: built[name]?.bytes ?? 0,
    withLazyChunksBytes: built[name]?.withLazyChunksBytes ?? 0,
    importMs: times[name]?.p50 ?? Number.NaN,
    importP99Ms: times[name]?.p99 ?? Number.NaN,
  });
  return {
    nodeOptions,
    runs: RUNS,
    references: Object.fromEntries(Object.keys(refs).map((name) => [name, entry(name)])),
    functions: Object.fromEntries(functionNames.map((name) => [name, entry(name)])),
  };
}

/**
 * Bytes of the entry and every chunk it imports statically: what a cold start loads.
 * With `lazy`, the chunks it imports dynamically too (the KMS and SSM clients, on a
 * data-key cache miss). Throws if the entry is not among esbuild's outputs, so a size
 * is never a silent 0.
 */
function closureBytes(metafile: Metafile, entry: string, lazy: boolean): number {
  const outputs = metafile.outputs;
  // Output paths are relative to absWorkingDir (PROJECT_ROOT), wherever the bundles are.
  const root = Object.keys(outputs).find((key) => resolve(PROJECT_ROOT, key) === resolve(entry));
  if (root === undefined) throw new Error(`${entry} is not among esbuild's outputs`);
  const seen = new Set<string>();
  const stack: string[] = [root];
  while (stack.length > 0) {
    const key = stack.pop() as string;
    if (seen.has(key)) continue;
    seen.add(key);
    for (const imported of outputs[key]?.imports ?? []) {
      const followed = imported.kind === 'import-statement' || (lazy && imported.kind === 'dynamic-import');
      if (followed && !imported.external && outputs[imported.path] !== undefined) stack.push(imported.path);
    }
  }
  return [...seen].reduce((total, key) => total + (outputs[key]?.bytes ?? 0), 0);
}

/**
 * `npm run build:cli` (and `prepare`, so every `npm ci` runs it): the CLI's TypeScript
 * compiled once into dist/cli/main.mjs, so that `tfa` starts without a compiler. The
 * packages stay outside the bundle (node_modules has them). The sources it was built
 * from are listed with their times: bin/tfa.js runs the bundle only while they match.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist/cli');
mkdirSync(OUT, { recursive: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: [join(ROOT, 'cli/main.ts')],
  outfile: join(OUT, 'main.mjs'),
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  metafile: true,
  logLevel: 'warning',
});
const inputs = Object.fromEntries(
  Object.keys(result.metafile.inputs).map((input) => {
    const path = relative(ROOT, join(ROOT, input));
    return [path, statSync(join(ROOT, path)).mtimeMs];
  }),
);
writeFileSync(join(OUT, 'inputs.json'), `${JSON.stringify(inputs, null, 1)}\n`);

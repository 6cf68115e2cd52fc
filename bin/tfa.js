#!/usr/bin/env node
// The `tfa` command. It runs the CLI compiled at install (`prepare`: npm run build:cli)
// while that build is current, and otherwise the TypeScript source itself, through
// tsx's loader (a dependency): what runs is always the source as it is now.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { currentBundle } from './cliBundle.js';

const bundle = currentBundle(join(dirname(fileURLToPath(import.meta.url)), '..'));
let main;
if (bundle) ({ main } = await import(pathToFileURL(bundle).href));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
// The CLI reads files anyone could have altered (exports, lists of users). With
// Object.prototype frozen, a parser bug that writes to it throws instead of quietly
// giving every object (the options, where the key is sent) a value of the file's.
Object.freeze(Object.prototype);
process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env node
// The `tfa` command. The CLI is TypeScript run through tsx's loader (a dependency of
// the project), so what runs is the source that was reviewed: no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
// The CLI reads files anyone could have altered (exports, lists of users). With
// Object.prototype frozen, a parser bug that writes to it throws instead of quietly
// giving every object (the options, where the key is sent) a value of the file's.
Object.freeze(Object.prototype);
process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env node
// The `tfa` command. The CLI is TypeScript run through tsx's loader (a dependency of
// the project), so what runs is the source that was reviewed: no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

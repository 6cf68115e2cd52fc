import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The compiled CLI (dist/cli/main.mjs, from `npm run build:cli`) when it is current:
 * every source it was built from still has the time it had then. Otherwise undefined,
 * and the caller runs the TypeScript itself: an edited source is never hidden by an
 * old build.
 */
export function currentBundle(root) {
  try {
    const inputs = JSON.parse(readFileSync(join(root, 'dist/cli/inputs.json'), 'utf8'));
    const current = Object.entries(inputs).every(
      ([path, mtimeMs]) => statSync(join(root, path)).mtimeMs === mtimeMs,
    );
    return current ? join(root, 'dist/cli/main.mjs') : undefined;
  } catch {
    return undefined;
  }
}

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { layers, untrustedKeys } from '../../eslint.layers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** Every relative import of a module, type-only ones included: a cycle of types is a cycle too. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) =>
    normalize(join(dirname(file), m[1] as string)),
  );
}

describe('layers', () => {
  it('no import cycle among the modules of lib/, functions/, client/ and cli/', () => {
    const graph = new Map(
      [
        ...sources('lib'),
        ...sources('functions'),
        ...sources('client'),
        ...sources('cli'),
        ...sources('console'),
      ].map((f) => [f, importsOf(f)]),
    );
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'visiting');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    assert.deepEqual(cycles, []);
    assert.ok(graph.size > 40, `${graph.size} modules read`);
  });

  it('every import of the tree obeys the layer rules', () => {
    // The rules are applied by `eslint .` too; here they are shown to bite.
    const linter = new Linter();
    const config = [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...layers];
    const refused = (file: string, code: string) =>
      linter
        .verify(code, config, { filename: join(ROOT, file) })
        .filter((m) => m.ruleId === 'no-restricted-imports')
        .map((m) => m.message);
    // A deliberate wrong import in each layer is refused, with the rule's reason.
    assert.match(
      refused('lib/domain/x.ts', "import type { Store } from '../store/port.ts';").join(),
      /the domain imports nothing of ours/,
    );
    assert.match(
      refused('lib/domain/x.ts', "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';").join(),
      /the domain knows no AWS/,
    );
    // The parsers' folder of the domain reaches the domain, and nothing beyond it.
    assert.deepEqual(refused('lib/domain/imports/x.ts', "import { own } from '../untrusted.ts';"), []);
    assert.match(
      refused('lib/domain/imports/x.ts', "import type { Store } from '../../store/port.ts';").join(),
      /the domain imports nothing of ours/,
    );
    assert.match(
      refused('lib/usecases/x.ts', "import { ok } from '../http/respond.ts';").join(),
      /use cases import no HTTP code/,
    );
    assert.match(
      refused('lib/usecases/x.ts', "import type { AttributeValue } from '@aws-sdk/client-dynamodb';").join(),
      /use cases reach AWS through ports/,
    );
    assert.match(
      refused('lib/store/x.ts', "import { verifyCode } from '../usecases/verify.ts';").join(),
      /adapters import no use case/,
    );
    assert.match(
      refused('client/x.ts', "import { ERROR_STATUS } from '../lib/errors.ts';").join(),
      /the client knows the service only through openapi.yaml/,
    );
    assert.match(
      refused('client/x.ts', "import { readFileSync } from 'node:fs';").join(),
      /runs in browsers too/,
    );
    assert.match(
      refused('cli/x.ts', "import { tenantStore } from '../lib/store/dynamoStore.ts';").join(),
      /the CLI is a caller/,
    );
    assert.match(
      refused('console/x.ts', "import { importLogins } from '../lib/usecases/importLogins.ts';").join(),
      /the console is a page/,
    );
    // And the tree itself passes them.
    for (const file of [...sources('lib'), ...sources('client'), ...sources('cli'), ...sources('console')]) {
      assert.deepEqual(refused(file, readFileSync(join(ROOT, file), 'utf8')), [], relative(ROOT, file));
    }
  });

  it('the in operator, which reads the prototype chain, is refused by the linter', () => {
    const linter = new Linter();
    const config = [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, untrustedKeys];
    const messages = linter
      .verify("export const f = (o: object) => 'secret' in o;", config, {
        filename: join(ROOT, 'lib/domain/x.ts'),
      })
      .map((m) => m.message);
    assert.match(messages.join(), /reads the prototype chain/);
  });
});

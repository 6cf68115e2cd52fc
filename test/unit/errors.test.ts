import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ERROR_STATUS } from '../../lib/errors.ts';
import { PROJECT_ROOT } from '../../lib/local/service.ts';

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), 'utf8');
/** The prose that names error codes: the README and every page of docs/. */
const docs = [
  read('README.md'),
  ...readdirSync(join(PROJECT_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => read(join('docs', name))),
].join('\n');
const spec = parse(read('openapi.yaml'));

/** Every "`404` `not_enrolled`" (or "`404 not_enrolled`") a document names. */
const named = (text: string) =>
  [...text.matchAll(/`(\d{3})`?\s+`?([a-z]+_[a-z_]+|[a-z]+)`/g)].map(([, status, code]) => ({
    status: Number(status),
    code: code as string,
  }));

describe('the error catalogue', () => {
  it('holds every code the docs name, with the status they give it', () => {
    const pairs = named(docs);
    assert.ok(pairs.length > 5, `${pairs.length} codes named`);
    for (const { status, code } of pairs) {
      assert.equal(ERROR_STATUS[code as keyof typeof ERROR_STATUS], status, `${status} ${code}`);
    }
  });

  it('is exactly the error codes of openapi.yaml', () => {
    const codes: string[] = spec.components.schemas.Error.properties.error.properties.code.enum;
    assert.deepEqual([...codes].sort(), Object.keys(ERROR_STATUS).sort());
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ERROR_STATUS } from '../../lib/errors.ts';
import { PROJECT_ROOT } from '../../lib/local/service.ts';

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), 'utf8');
const readme = read('README.md');
const spec = parse(read('openapi.yaml'));

/** Every "`404` `not_enrolled`" (or "`404 not_enrolled`") a document names. */
const named = (text: string) =>
  [...text.matchAll(/`(\d{3})`?\s+`?([a-z]+_[a-z_]+|[a-z]+)`/g)].map(([, status, code]) => ({
    status: Number(status),
    code: code as string,
  }));

describe('the error catalogue', () => {
  it('holds every code the README names, with the status it gives it', () => {
    const pairs = named(readme);
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

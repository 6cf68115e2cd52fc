import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ERROR_STATUS } from '../../lib/errors.ts';
import { PROJECT_ROOT } from '../../lib/local/service.ts';

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), 'utf8');
const contract = read('../shared/API.md');
const readme = read('README.md');

/** Every "`404` `not_enrolled`" (or "`404 not_enrolled`") a document names. */
const named = (text: string) =>
  [...text.matchAll(/`(\d{3})`?\s+`?([a-z]+_[a-z_]+|[a-z]+)`/g)].map(([, status, code]) => ({
    status: Number(status),
    code: code as string,
  }));

describe('the error catalogue', () => {
  it('holds every code the contract and the README name, with the status they give it', () => {
    const pairs = [...named(contract), ...named(readme)];
    assert.ok(pairs.length > 15, `${pairs.length} codes named`);
    for (const { status, code } of pairs) {
      assert.equal(ERROR_STATUS[code as keyof typeof ERROR_STATUS], status, `${status} ${code}`);
    }
  });

  it('names nothing that neither document names', () => {
    for (const code of Object.keys(ERROR_STATUS)) {
      assert.ok(contract.includes(`\`${code}\``) || readme.includes(code), code);
    }
  });

  it('is exactly the error codes of openapi.yaml', () => {
    const spec = parse(read('openapi.yaml'));
    const codes: string[] = spec.components.schemas.Error.properties.error.properties.code.enum;
    assert.deepEqual([...codes].sort(), Object.keys(ERROR_STATUS).sort());
  });
});

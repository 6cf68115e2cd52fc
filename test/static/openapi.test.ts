import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { lint, loadConfig } from '@redocly/openapi-core';
import spectralCore, { type RulesetDefinition } from '@stoplight/spectral-core';
import Parsers from '@stoplight/spectral-parsers';
import { oas } from '@stoplight/spectral-rulesets';
import { format, resolveConfig } from 'prettier';
import { ERROR_STATUS } from '../../lib/errors.ts';
import { PROJECT_ROOT } from '../../lib/local/service.ts';
import { checkResponse, SPEC } from '../support/contract.ts';

const { Document, Spectral } = spectralCore;

const json = (extra: Record<string, string> = {}) =>
  new Headers({ 'content-type': 'application/json', 'x-request-id': 'r-1', ...extra });
const refused = (run: () => void, why: RegExp) => assert.throws(run, why);

describe('openapi.yaml', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(join(PROJECT_ROOT, 'openapi.yaml'));
    assert.deepEqual(result, { valid: true });
    assert.equal(SPEC.openapi, '3.1.0');
  });

  it('redocly and spectral (spectral:oas) find no error in it', async () => {
    const file = join(PROJECT_ROOT, 'openapi.yaml');
    const redocly = await lint({ ref: file, config: await loadConfig({}) });
    assert.deepEqual(
      redocly.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message}`),
      [],
    );
    const spectral = new Spectral();
    spectral.setRuleset({ extends: [[oas as RulesetDefinition, 'recommended']] });
    const results = await spectral.run(new Document(readFileSync(file, 'utf8'), Parsers.Yaml, file));
    assert.deepEqual(
      results.filter((r) => r.severity === 0 /* an error */).map((r) => `${r.code}: ${r.message}`),
      [],
    );
    // And every operation says what it does beyond its summary.
    assert.deepEqual(
      results.filter((r) => r.code === 'operation-description').map((r) => r.path.join('.')),
      [],
    );
  });

  it('gives every operation an id, an example of its success, and, unless public, the answers of a refused key', () => {
    for (const [path, item] of Object.entries<any>(SPEC.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        if (method === 'parameters' || method.startsWith('x-')) continue;
        const where = `${method} ${path}`;
        assert.ok(operation.operationId, where);
        const success = Object.entries<any>(operation.responses).find(([status]) => /^[23]/.test(status));
        assert.ok(success, where);
        const media = success[1].content?.['application/json'];
        if (media && operation.operationId !== 'newRecoveryCodes') {
          assert.ok(media.example ?? media.examples, `${where} has an example`);
        }
        // Public routes (health, the console) answer no key question.
        if (!(Array.isArray(operation.security) && operation.security.length === 0)) {
          for (const status of ['401', '403', '500', '503'])
            assert.ok(operation.responses[status], `${where} ${status}`);
        }
      }
    }
  });

  it('every POST, PUT, PATCH and DELETE takes an Idempotency-Key and lists what it may answer under one', () => {
    const codesOf = (response: any): string[] => {
      const resolved = response.$ref ? SPEC.components.responses[response.$ref.split('/').pop()] : response;
      const code = resolved.content['application/json'].schema.properties.error.properties.code;
      return code.enum ?? [code.const];
    };
    let mutating = 0;
    for (const [path, item] of Object.entries<any>(SPEC.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        if (!['post', 'put', 'patch', 'delete'].includes(method)) continue;
        mutating++;
        const where = `${method} ${path}`;
        assert.ok(
          (operation.parameters ?? []).some((p: any) => p.$ref === '#/components/parameters/IdempotencyKey'),
          `${where} takes the header`,
        );
        assert.ok(codesOf(operation.responses['409']).includes('idempotency_in_flight'), `${where} 409`);
        assert.ok(codesOf(operation.responses['422']).includes('idempotency_key_reused'), `${where} 422`);
        const success = Object.entries<any>(operation.responses).find(([status]) => /^2/.test(status))?.[1];
        assert.ok(success.headers?.['idempotent-replayed'], `${where} says when it is a replay`);
      }
    }
    assert.equal(mutating, 22, 'every mutating operation of the API');
    // And nothing else takes one: a GET is never replayed.
    for (const item of Object.values<any>(SPEC.paths)) {
      assert.ok(!JSON.stringify(item.get ?? {}).includes('IdempotencyKey'));
    }
  });

  it('each error answer names only codes of its status, and together they are the whole catalogue', () => {
    const seen = new Set<string>();
    for (const [name, response] of Object.entries<any>(SPEC.components.responses)) {
      if (!response.content) continue; // not an error: the redirect to the console
      const code = response.content['application/json'].schema.properties.error.properties.code;
      const codes: string[] = code.enum ?? [code.const];
      const statuses = new Set(codes.map((c) => ERROR_STATUS[c as keyof typeof ERROR_STATUS]));
      assert.equal(statuses.size, 1, `${name}: ${codes.join(', ')}`);
      codes.forEach((c) => seen.add(c));
    }
    assert.deepEqual([...seen].sort(), Object.keys(ERROR_STATUS).sort());
  });

  it('client/schema.ts is what openapi-typescript makes of it now (npm run generate:client)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tfa-schema-')), 'schema.ts');
    const bin = join(PROJECT_ROOT, 'node_modules/.bin/openapi-typescript');
    execFileSync(bin, ['openapi.yaml', '-o', out, '--default-non-nullable=false'], {
      cwd: PROJECT_ROOT,
      stdio: 'ignore',
    });
    const committed = join(PROJECT_ROOT, 'client/schema.ts');
    const options = { ...(await resolveConfig(committed)), filepath: committed };
    assert.equal(
      await format(readFileSync(out, 'utf8'), options),
      readFileSync(committed, 'utf8'),
      'client/schema.ts is stale: run npm run generate:client',
    );
  });
});

describe('the judge of answers (test/support/contract.ts)', () => {
  const status = {
    userId: 'bob',
    enabled: true,
    pending: false,
    enforced: true,
    confirmedAt: '2026-11-22T20:30:00.000Z',
    lastVerifiedAt: null,
    failedAttempts: 0,
    lockedUntil: null,
    disabled: false,
    recoveryCodesRemaining: 10,
    source: 'setup',
    weakSecret: false,
    authenticators: [],
    registered: true,
    enrolment: { state: 'enrolled', dueAt: null, mustEnrol: false },
    clockSkew: null,
  };
  const check = (method: string, path: string, code: number, body: unknown, headers = json()) =>
    checkResponse(method, path, code, headers, body, JSON.stringify(body));

  it('passes an answer the spec describes', () => {
    check('GET', '/v1/users/bob', 200, status);
    check('POST', '/v1/users/bob/verify', 200, { valid: false, reason: 'locked', retryAfterSeconds: 3 });
    check(
      'POST',
      '/v1/users/bob/confirm',
      423,
      { error: { code: 'locked', message: 'x' } },
      json({ 'retry-after': '3' }),
    );
    check('GET', '/no/such/route', 404, { error: { code: 'not_found', message: 'no such route' } });
  });

  it('refuses a field the spec does not have, or one it requires missing', () => {
    refused(
      () => check('GET', '/v1/users/bob', 200, { ...status, secret: 'JBSWY3DP' }),
      /additional properties/,
    );
    const { lockedUntil: _, ...partial } = status;
    refused(() => check('GET', '/v1/users/bob', 200, partial), /must have required property 'lockedUntil'/);
    refused(
      () => check('GET', '/v1/users/bob', 200, { ...status, confirmedAt: '22/11/2026' }),
      /confirmedAt/,
    );
  });

  it('refuses a status the operation does not list, and an error code of another status', () => {
    refused(
      () => check('POST', '/v1/users/bob/verify', 410, { error: { code: 'setup_expired', message: 'x' } }),
      /does not list/,
    );
    // A wrong code is an answer of verify, never its error: its 422 is only a reused Idempotency-Key.
    refused(
      () => check('POST', '/v1/users/bob/verify', 422, { error: { code: 'invalid_code', message: 'x' } }),
      /must be equal to constant/,
    );
    refused(
      () => check('POST', '/v1/users/bob/confirm', 422, { error: { code: 'locked', message: 'x' } }),
      /code/,
    );
  });

  it('refuses an answer without its required headers', () => {
    refused(
      () => check('GET', '/v1/users/bob', 200, status, new Headers({ 'content-type': 'application/json' })),
      /x-request-id/,
    );
    refused(
      () => check('POST', '/v1/users/bob/confirm', 423, { error: { code: 'locked', message: 'x' } }),
      /retry-after/,
    );
  });

  it('refuses anything but 404 not_found for a route the spec does not have', () => {
    refused(() => check('GET', '/v1/secrets', 200, {}), /must answer 404 not_found/);
    refused(
      () => check('PUT', '/v1/users/bob/setup', 405, { error: { code: 'forbidden', message: 'x' } }),
      /404/,
    );
  });
});

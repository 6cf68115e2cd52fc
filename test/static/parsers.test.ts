import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SETTINGS_RULES } from '../../lib/domain/settings.ts';
import { ApiError } from '../../lib/errors.ts';
import type { Inputs } from '../../lib/http/api.ts';
import { none, settingsBody } from '../../lib/http/inputs.ts';
import { DEFAULT_ROUTE, readRoutes } from '../../lib/local/routes.ts';
import { PROJECT_ROOT } from '../../lib/local/service.ts';
import { mismatch, SPEC } from '../support/contract.ts';

/**
 * Each route's parsers (lib/http/inputs.ts) read exactly what openapi.yaml says the
 * operation takes: the body's properties, the required ones refused when missing,
 * the optional ones not, and the query's parameters. A field added on one side only
 * fails here.
 */

// One schema-valid value per body field the API has; checked against the schema, so
// a sample cannot drift from the contract either.
const SAMPLES: Record<string, unknown> = {
  tenantId: 'acme',
  issuer: 'Acme Hosting',
  name: 'panel',
  scopes: ['users'],
  reason: 'lost phone',
  code: '123456',
  accountName: 'bob@example.com',
  reconfigure: true,
  // At most one of reconfigure, add and replace: the samples hold all three, so two say no.
  add: false,
  replace: null,
  label: 'Work phone',
  authenticatorId: 'au_0123456789abcdef0123',
  source: { bob: { secret: 'JBSWY3DPEHPK3PXPJBSWY3DP' } },
  dryRun: true,
  overwrite: true,
  dueAt: '2027-01-31T00:00:00Z',
  exempt: false,
  forget: false,
  url: 'https://panel.example/hooks/tfa',
  events: ['tfa.user.locked'],
  description: 'panel',
  status: 'paused',
};

const routes = readRoutes(join(PROJECT_ROOT, 'serverless.yml')).filter((r) => r.routeKey !== DEFAULT_ROUTE);
const handlers = new Map<string, { routeInputs: Record<string, Inputs<unknown, unknown> | undefined> }>();
for (const route of routes) {
  const file = `${route.handler.slice(0, route.handler.lastIndexOf('.'))}.ts`;
  handlers.set(route.routeKey, (await import(join(PROJECT_ROOT, file))).handler);
}

type Schema = { $ref?: string; properties?: Record<string, unknown>; required?: string[] };
const at = (ref: string) =>
  ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((node: any, part) => node[part], SPEC);

/** Calls `parse` on an object that notes which of its own keys are read. */
function reads(parse: (raw: any) => unknown, value: Record<string, unknown>) {
  const read = new Set<string>();
  const recorder = new Proxy(Object.assign(Object.create(null), value), {
    getOwnPropertyDescriptor(target, key) {
      read.add(String(key));
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    get(target, key) {
      read.add(String(key));
      return Reflect.get(target, key);
    },
    has(target, key) {
      read.add(String(key));
      return Reflect.has(target, key);
    },
  });
  parse(recorder);
  return read;
}

const refusal = (parse: () => unknown) => {
  try {
    parse();
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) return error.message;
    throw error;
  }
  return undefined;
};

describe("each route's parsers read what openapi.yaml says it takes", () => {
  for (const route of routes) {
    const operation = SPEC.paths[route.path]?.[route.method.toLowerCase()];
    const inputs = handlers.get(route.routeKey)?.routeInputs[route.routeKey];
    if (!inputs) continue; // a public route reads no body and no query
    it(route.routeKey, () => {
      assert.ok(operation, `${route.routeKey} is not in openapi.yaml`);
      const ref: string | undefined = operation.requestBody?.content?.['application/json']?.schema?.$ref;
      if (!ref) {
        assert.equal(inputs.body, none, 'the spec declares no body, yet the route reads one');
      } else if (inputs.body !== settingsBody) {
        const schema = at(ref) as Schema;
        const fields = Object.keys(schema.properties ?? {});
        const sample = Object.fromEntries(fields.map((f) => [f, SAMPLES[f]]));
        for (const f of fields) assert.ok(f in SAMPLES, `no sample for ${f}: add one to SAMPLES`);
        assert.equal(mismatch(ref, sample), undefined, 'the samples do not match the schema');
        assert.deepEqual(
          [...reads(inputs.body, sample)].sort(),
          [...fields].sort(),
          'fields read vs declared',
        );
        for (const field of fields) {
          const { [field]: _, ...without } = sample;
          const message = refusal(() => inputs.body(without));
          if (schema.required?.includes(field))
            assert.match(message ?? '', new RegExp(field), `${field} is required`);
          else assert.equal(message, undefined, `${field} is optional, yet its absence is refused`);
        }
      }
      const declared = (operation.parameters ?? [])
        .map((p: { $ref?: string }) => (p.$ref ? at(p.$ref) : p))
        .filter((p: { in: string }) => p.in === 'query')
        .map((p: { name: string }) => p.name);
      assert.deepEqual(
        [...reads(inputs.query, {})].sort(),
        declared.sort(),
        'query parameters read vs declared',
      );
    });
  }

  it('PATCH /v1/settings: the settings rules are the schema’s fields, enums and ranges', () => {
    const schema = at('#/components/schemas/SettingsChange');
    const leaves: Record<string, any> = {};
    for (const [field, node] of Object.entries<any>(schema.properties)) {
      if (node.type === 'object') {
        for (const [inner, leaf] of Object.entries(node.properties)) leaves[`${field}.${inner}`] = leaf;
      } else if (field !== 'issuer') leaves[field] = node.$ref ? at(node.$ref) : node;
    }
    assert.deepEqual(Object.keys(SETTINGS_RULES).sort(), Object.keys(leaves).sort());
    for (const [field, rule] of Object.entries<any>(SETTINGS_RULES)) {
      const leaf = leaves[field];
      if (rule.type === 'string') assert.deepEqual(rule.allowed, leaf.enum, field);
      else if (leaf.enum)
        assert.deepEqual([rule.min, rule.max], [Math.min(...leaf.enum), Math.max(...leaf.enum)], field);
      else assert.deepEqual([rule.min, rule.max], [leaf.minimum, leaf.maximum], field);
    }
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { DEFAULT_ROUTE, matchRoute, readRoutes } from '../../lib/local/routes.ts';
import { PROJECT_ROOT } from '../../lib/local/service.ts';
import { keysTableDefinition, tableDefinition } from '../../lib/store/table.ts';

const routes = readRoutes(join(PROJECT_ROOT, 'serverless.yml'));

// Every route of the contract (openapi.yaml): a route missing from serverless.yml, or one added without
// its place here, fails this test.
const CONTRACT = [
  'GET /v1/health',
  'POST /v1/tenants',
  'GET /v1/tenants',
  'GET /v1/tenants/{tenantId}',
  'DELETE /v1/tenants/{tenantId}',
  'POST /v1/tenants/{tenantId}/keys',
  'GET /v1/settings',
  'PATCH /v1/settings',
  'POST /v1/keys',
  'GET /v1/keys',
  'DELETE /v1/keys/{id}',
  'POST /v1/users/{userId}/setup',
  'POST /v1/users/{userId}/confirm',
  'POST /v1/users/{userId}/verify',
  'GET /v1/users/{userId}',
  'PUT /v1/users/{userId}',
  'DELETE /v1/users/{userId}',
  'GET /v1/enrolment',
  'POST /v1/webhooks',
  'GET /v1/webhooks',
  'GET /v1/webhooks/{id}',
  'PATCH /v1/webhooks/{id}',
  'DELETE /v1/webhooks/{id}',
  'POST /v1/webhooks/{id}/rotate-secret',
  'POST /v1/webhooks/{id}/test',
  'GET /v1/webhooks/{id}/deliveries',
  'POST /v1/webhooks/{id}/deliveries/{messageId}/redeliver',
  'DELETE /v1/users/{userId}/authenticators/{authenticatorId}',
  'PATCH /v1/users/{userId}/authenticators/{authenticatorId}',
  'POST /v1/users/{userId}/recovery-codes',
  'POST /v1/users/{userId}/unlock',
  'GET /v1/users',
  'GET /v1/audit',
  'POST /v1/import/{format}',
  'GET /console',
  'GET /console/{file}',
];

describe('routes', () => {
  it('serverless.yml declares exactly the routes of the contract, and $default for the rest', () => {
    assert.deepEqual(routes.map((r) => r.routeKey).sort(), [...CONTRACT, DEFAULT_ROUTE].sort());
  });

  it("each function's handler serves exactly the routes serverless.yml gives it", async () => {
    for (const fn of new Set(routes.map((r) => r.handler))) {
      const module = await import(join(PROJECT_ROOT, `${fn.slice(0, fn.lastIndexOf('.'))}.ts`));
      const declared = routes
        .filter((r) => r.handler === fn)
        .map((r) => r.routeKey)
        .sort();
      assert.deepEqual([...module.handler.routeKeys].sort(), declared, fn);
    }
  });

  it('openapi.yaml describes exactly these routes', () => {
    const spec = parse(readFileSync(join(PROJECT_ROOT, 'openapi.yaml'), 'utf8')) as {
      paths: Record<string, object>;
    };
    // Paths the catch-all route answers (`x-route: $default`) are not routes of their own.
    const described = Object.entries(spec.paths).flatMap(([path, item]) =>
      Object.keys((item as { 'x-route'?: string })['x-route'] === DEFAULT_ROUTE ? {} : item)
        .filter((key) => ['get', 'post', 'patch', 'delete', 'put'].includes(key))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    assert.deepEqual(described.sort(), [...CONTRACT].sort());
  });

  it('local mode matches paths as API Gateway does, percent-decoding parameters', () => {
    assert.equal(matchRoute(routes, 'GET', '/v1/users')?.route.routeKey, 'GET /v1/users');
    const user = matchRoute(routes, 'POST', '/v1/users/bob%40example.com/verify');
    assert.equal(user?.route.routeKey, 'POST /v1/users/{userId}/verify');
    assert.deepEqual(user?.pathParameters, { userId: 'bob@example.com' });
    assert.equal(matchRoute(routes, 'PUT', '/v1/users/bob/verify')?.route.routeKey, DEFAULT_ROUTE);
    assert.equal(matchRoute(routes, 'GET', '/v1/users/')?.route.routeKey, DEFAULT_ROUTE);
    assert.equal(matchRoute(routes, 'GET', '/nowhere')?.route.routeKey, DEFAULT_ROUTE);
    const malformed = matchRoute(routes, 'GET', '/v1/users/%E0%A4%A');
    assert.equal(malformed?.route.routeKey, 'GET /v1/users/{userId}');
    assert.deepEqual(
      malformed?.pathParameters,
      { userId: '%E0%A4%A' },
      'passed as it is, to be refused by name',
    );
  });

  it('the table in serverless.yml is the one local mode creates', () => {
    const config = parse(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8'));
    const declared = config.resources.Resources.Table.Properties;
    const local = tableDefinition('x');
    assert.deepEqual(declared.KeySchema, local.KeySchema);
    assert.deepEqual(
      [...declared.AttributeDefinitions].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName)),
      [...local.AttributeDefinitions].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName)),
    );
    assert.deepEqual(declared.GlobalSecondaryIndexes, local.GlobalSecondaryIndexes);
    assert.equal(declared.BillingMode, local.BillingMode);
    const keys = config.resources.Resources.KeysTable.Properties;
    const localKeys = keysTableDefinition('x');
    assert.deepEqual(
      [keys.KeySchema, keys.AttributeDefinitions, keys.BillingMode],
      [localKeys.KeySchema, localKeys.AttributeDefinitions, localKeys.BillingMode],
    );
  });
});

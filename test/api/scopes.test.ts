import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { DEFAULT_ROUTE, readRoutes } from '../../lib/local/routes.ts';
import { PROJECT_ROOT } from '../../lib/local/service.ts';
import { codeFor, freshStep } from '../support/otp.ts';
import { startTestService } from '../support/service.ts';

// Who may call what, from docs/api.md's table of keys and scopes, written here again on
// purpose: the handlers declare their own access, and this holds them to the contract.
type Kind = 'none' | 'wrong' | 'operator' | 'admin' | 'users' | 'support' | 'otherAdmin';
const ALLOWED: Record<string, Kind[]> = {
  'GET /v1/health': ['none', 'wrong', 'operator', 'admin', 'users', 'support', 'otherAdmin'],
  'POST /v1/tenants': ['operator'],
  'GET /v1/tenants': ['operator'],
  'GET /v1/tenants/{tenantId}': ['operator'],
  'DELETE /v1/tenants/{tenantId}': ['operator'],
  'POST /v1/tenants/{tenantId}/keys': ['operator'],
  'GET /v1/settings': ['admin', 'otherAdmin'],
  'PATCH /v1/settings': ['admin', 'otherAdmin'],
  'POST /v1/keys': ['admin', 'otherAdmin'],
  'GET /v1/keys': ['admin', 'otherAdmin'],
  'DELETE /v1/keys/{id}': ['admin', 'otherAdmin'],
  'POST /v1/users/{userId}/setup': ['admin', 'users', 'otherAdmin'],
  'POST /v1/users/{userId}/confirm': ['admin', 'users', 'otherAdmin'],
  'POST /v1/users/{userId}/verify': ['admin', 'users', 'otherAdmin'],
  'POST /v1/users/{userId}/recovery-codes': ['admin', 'users', 'otherAdmin'],
  'GET /v1/users/{userId}': ['admin', 'users', 'support', 'otherAdmin'],
  'PUT /v1/users/{userId}': ['admin', 'users', 'support', 'otherAdmin'],
  'DELETE /v1/users/{userId}': ['admin', 'users', 'support', 'otherAdmin'],
  'GET /v1/enrolment': ['admin', 'support', 'otherAdmin'],
  'DELETE /v1/users/{userId}/authenticators/{authenticatorId}': ['admin', 'users', 'support', 'otherAdmin'],
  'PATCH /v1/users/{userId}/authenticators/{authenticatorId}': ['admin', 'users', 'otherAdmin'],
  'POST /v1/users/{userId}/unlock': ['admin', 'support', 'otherAdmin'],
  'GET /v1/users': ['admin', 'support', 'otherAdmin'],
  'GET /v1/audit': ['admin', 'support', 'otherAdmin'],
  'POST /v1/import/{format}': ['admin', 'otherAdmin'],
  'POST /v1/webhooks': ['admin', 'otherAdmin'],
  'GET /v1/webhooks': ['admin', 'otherAdmin'],
  'GET /v1/webhooks/{id}': ['admin', 'otherAdmin'],
  'PATCH /v1/webhooks/{id}': ['admin', 'otherAdmin'],
  'DELETE /v1/webhooks/{id}': ['admin', 'otherAdmin'],
  'POST /v1/webhooks/{id}/rotate-secret': ['admin', 'otherAdmin'],
  'POST /v1/webhooks/{id}/test': ['admin', 'otherAdmin'],
  'GET /v1/webhooks/{id}/deliveries': ['admin', 'otherAdmin'],
  'POST /v1/webhooks/{id}/deliveries/{messageId}/redeliver': ['admin', 'otherAdmin'],
  'GET /console': ['none', 'wrong', 'operator', 'admin', 'users', 'support', 'otherAdmin'],
  'GET /console/{file}': ['none', 'wrong', 'operator', 'admin', 'users', 'support', 'otherAdmin'],
  // Unknown routes answer 404 not_found to everyone: no key is asked for, none is told more.
  [DEFAULT_ROUTE]: ['none', 'wrong', 'operator', 'admin', 'users', 'support', 'otherAdmin'],
};
const KINDS: Kind[] = ['none', 'wrong', 'operator', 'admin', 'users', 'support', 'otherAdmin'];
const BODIES: Record<string, unknown> = {
  'POST /v1/tenants': { tenantId: 'fresh' },
  'PATCH /v1/settings': { setupTtlSeconds: 900 },
  'POST /v1/keys': { name: 'matrix', scopes: ['users'] },
  'POST /v1/tenants/{tenantId}/keys': { name: 'matrix', scopes: ['support'] },
  'DELETE /v1/tenants/{tenantId}': { reason: 'scope matrix' },
  'POST /v1/users/{userId}/confirm': { code: '000000' },
  'POST /v1/users/{userId}/verify': { code: '000000' },
  'PATCH /v1/users/{userId}/authenticators/{authenticatorId}': { label: 'matrix' },
  'POST /v1/import/{format}': { source: {}, dryRun: true },
  // A public address, written as one: nothing is resolved, nothing is sent.
  'POST /v1/webhooks': { url: 'https://93.184.216.34/hooks', events: ['*'] },
  'PATCH /v1/webhooks/{id}': { status: 'paused' },
};

const service = await startTestService();
const { client, operatorKey } = service;
const keys = {} as Record<Kind, string | undefined>;
let secret: { secret: string };

before(async () => {
  const admin = await client.tenant(operatorKey, 'matrix');
  keys.admin = admin;
  keys.users = await client.key(admin, ['users']);
  keys.support = await client.key(admin, ['support']);
  keys.otherAdmin = await client.tenant(operatorKey, 'matrix-other');
  keys.operator = operatorKey;
  keys.none = undefined;
  keys.wrong = 'tfa.matrix.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  await freshStep();
  const setup = await client.call('POST', '/v1/users/enrolled/setup', { key: admin });
  secret = setup.body;
  await client.call('POST', '/v1/users/enrolled/confirm', { key: admin, body: { code: codeFor(secret) } });
});

describe('scope matrix: every route × every kind of key', () => {
  const routes = readRoutes(join(PROJECT_ROOT, 'serverless.yml'));

  it('every declared route has its row here: a new route cannot be forgotten', () => {
    assert.deepEqual(routes.map((r) => r.routeKey).sort(), Object.keys(ALLOWED).sort());
  });

  for (const route of routes) {
    it(route.routeKey, async () => {
      let cell = 0;
      for (const kind of KINDS) {
        // Paths that act on something real: an enrolled user, the tenant, a fresh key.
        const fallback = route.routeKey === DEFAULT_ROUTE;
        let path = fallback
          ? '/v1/nowhere'
          : route.path.replace('{userId}', route.method === 'DELETE' ? `gone-${kind}` : 'enrolled');
        if (route.routeKey === 'DELETE /v1/tenants/{tenantId}') {
          // A tenant of its own to delete: the matrix's tenant must outlive the matrix.
          await client.tenant(operatorKey, `doomed-${kind.toLowerCase()}`);
          path = path.replace('{tenantId}', `doomed-${kind.toLowerCase()}`);
        }
        path = path.replace('{tenantId}', 'matrix');
        path = path.replace('{format}', 'cpanel');
        if (path.includes('{id}')) {
          const made = await client.call('POST', '/v1/keys', {
            key: keys.admin,
            body: { name: 'doomed', scopes: ['users'] },
          });
          path = path.replace('{id}', made.body.id);
        }
        const body =
          route.routeKey === 'POST /v1/tenants'
            ? { tenantId: `fresh-${kind.toLowerCase()}` }
            : BODIES[route.routeKey];
        const reply = await client.call(fallback ? 'GET' : route.method, path, {
          key: keys[kind],
          ...(body ? { body } : {}),
        });
        if (fallback) assert.equal(reply.body.error.code, 'not_found');
        const allowed = ALLOWED[route.routeKey]?.includes(kind);
        const where = `${route.routeKey} with ${kind} → ${reply.status} ${reply.text.slice(0, 120)}`;
        if (allowed) {
          assert.ok(![401, 403].includes(reply.status) && reply.status < 500, where);
        } else {
          const expected = kind === 'none' || kind === 'wrong' ? 401 : 403;
          assert.equal(reply.status, expected, where);
          assert.equal(reply.body.error.code, expected === 401 ? 'unauthorized' : 'forbidden', where);
          // The message says what would fix it: the header, or the key this route needs.
          const message: string = reply.body.error.message;
          if (kind === 'none') assert.match(message, /Authorization: Bearer <API key>/, where);
          else if (kind === 'wrong') assert.match(message, /the API key is not valid/, where);
          else if (kind === 'operator') assert.match(message, /tenant's own keys/, where);
          else if (ALLOWED[route.routeKey]?.includes('operator'))
            assert.match(message, /needs the operator key/, where);
          else {
            const scopes = (['users', 'support'] as const).filter((s) =>
              ALLOWED[route.routeKey]?.includes(s),
            );
            const named = scopes.length === 0 ? 'admin' : `${scopes.join(' or ')} \\(or admin\\)`;
            assert.match(message, new RegExp(`needs a key with the scope ${named}$`), where);
          }
        }
        cell++;
      }
      assert.equal(cell, KINDS.length);
    });
  }

  it('a 401 tells a missing header from a malformed one, and never whether a key exists', async () => {
    const said = async (authorization: string | undefined) => {
      const reply = await client.call('GET', '/v1/users/enrolled', {
        ...(authorization === undefined ? {} : { headers: { authorization } }),
      });
      assert.equal(reply.status, 401, reply.text);
      return reply.body.error.message as string;
    };
    assert.match(await said(undefined), /^no API key/);
    assert.match(await said(''), /^no API key/);
    assert.match(await said(`Basic ${keys.support}`), /must be "Bearer <API key>"/);
    assert.match(await said(`Bearer ${keys.support} extra`), /must be "Bearer <API key>"/);
    const [, tenant, id] = (keys.support as string).split('.');
    const gone = await client.tenant(operatorKey, 'matrix-gone');
    assert.equal(
      (await client.call('DELETE', '/v1/tenants/matrix-gone', { key: operatorKey, body: { reason: 'test' } }))
        .status,
      200,
    );
    const rejected = new Set([
      await said(`Bearer ${keys.wrong}`), // no such key id
      await said(`Bearer tfa.${tenant}.${id}.${'B'.repeat(43)}`), // a real key id, a wrong secret
      await said(`Bearer tfa.nosuchtenant.${id}.${'B'.repeat(43)}`), // no such tenant
      await said(`Bearer ${gone}`), // a deleted tenant's key
      await said('Bearer not-a-key-at-all-0123456789abcdef'), // neither a tenant key nor the operator's
    ]);
    assert.deepEqual(
      [...rejected],
      ['the API key is not valid: check that it was copied whole, or ask an administrator for a new one'],
    );
  });

  it("another tenant's admin reaches only its own tenant", async () => {
    const seen = await client.call('GET', '/v1/users/enrolled', { key: keys.otherAdmin });
    assert.equal(seen.body.enabled, false);
    const settings = await client.call('GET', '/v1/settings', { key: keys.otherAdmin });
    assert.equal(settings.body.tenantId, 'matrix-other');
    const mine = await client.call('GET', '/v1/users/enrolled', { key: keys.admin });
    assert.equal(mine.body.enabled, true);
    console.log(`# scope matrix: ${Object.keys(ALLOWED).length} routes × ${KINDS.length} kinds of key`);
  });
});

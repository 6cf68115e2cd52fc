import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { checkResponse } from '../support/contract.ts';
import { type Reply, startTestService } from '../support/service.ts';
import { assertError } from '../support/users.ts';

const service = await startTestService();
const { client, operatorKey } = service;

describe('health and conventions', () => {
  it('GET /v1/health needs no key', async () => {
    const reply = await client.call('GET', '/v1/health');
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { status: 'ok' });
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(reply.headers.get('cache-control'), 'no-store');
    assert.equal(reply.headers.get('x-content-type-options'), 'nosniff');
  });

  it('echoes the caller x-request-id, or makes one', async () => {
    const echoed = await client.call('GET', '/v1/health', { headers: { 'x-request-id': 'req-123.abc' } });
    assert.equal(echoed.headers.get('x-request-id'), 'req-123.abc');
    const made = await client.call('GET', '/v1/settings');
    assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const error = await client.call('GET', '/v1/settings', { headers: { 'x-request-id': 'err-1' } });
    assert.equal(error.headers.get('x-request-id'), 'err-1', 'errors carry it too');
  });

  it('does not echo an x-request-id that is not a plain token', async () => {
    const reply = await client.call('GET', '/v1/health', { headers: { 'x-request-id': 'a b<script>' } });
    assert.notEqual(reply.headers.get('x-request-id'), 'a b<script>');
  });
});

describe('every answer in the contract shape', () => {
  const assertSecured = (reply: Reply) => {
    assert.equal(reply.headers.get('cache-control'), 'no-store');
    assert.equal(reply.headers.get('x-content-type-options'), 'nosniff');
    assert.match(reply.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  };

  it('an unknown path or method is 404 not_found, with a request id and the security headers', async () => {
    for (const [method, path] of [
      ['GET', '/nowhere'],
      ['GET', '/v1/users/bob/nothing'],
      ['PUT', '/v1/users/bob/setup'],
      ['DELETE', '/v1/settings'],
      ['POST', '/v1/health'],
    ] as const) {
      const reply = await client.call(method, path, { headers: { 'x-request-id': 'lost-1' } });
      assertError(reply, 404, 'not_found');
      assert.equal(reply.headers.get('x-request-id'), 'lost-1', `${method} ${path}`);
      assertSecured(reply);
    }
  });

  it('a browser opening / or /console/ is sent to /console; other methods there are 404', async () => {
    for (const path of ['/', '/console/']) {
      const reply = await fetch(`${service.url}${path}`, { redirect: 'manual' });
      assert.equal(reply.status, 308, path);
      assert.equal(reply.headers.get('location'), '/console');
      // openapi.yaml describes `/` (a path must not end with a slash there); `/console/` is its twin.
      checkResponse('GET', '/', reply.status, reply.headers, undefined, await reply.text());
      assertSecured({ headers: reply.headers } as Reply);
      assertError(await client.call('POST', path), 404, 'not_found');
    }
    const page = await client.call('GET', '/');
    assert.equal(page.status, 200, 'followed, it is the console');
    assert.match(page.text, /<title>Two-Factor Authentication<\/title>/);
  });

  it('authentication comes first: without a valid key, 401 whatever the body', async () => {
    for (const rawBody of ['{"code": ', '[]', 'x'.repeat(20 * 1024), 'x'.repeat(2 * 1024 * 1024)]) {
      for (const key of [undefined, 'tfa.nobody.0123456789abcdef.' + 'A'.repeat(43), 'not-a-key']) {
        const reply = await client.call('POST', '/v1/users/bob/verify', {
          ...(key === undefined ? {} : { key }),
          rawBody,
          headers: { 'content-type': 'application/json' },
        });
        assertError(reply, 401, 'unauthorized');
        assert.doesNotMatch(reply.body.error.message, /JSON|object|16 KiB/, 'no word about the body');
      }
    }
  });

  it('a body over the limit, of any size, is 400 invalid_request (never 413)', async () => {
    for (const size of [16 * 1024 + 1, 1024 * 1024 + 10, 3 * 1024 * 1024]) {
      const reply = await client.call('POST', '/v1/tenants', {
        key: operatorKey,
        rawBody: JSON.stringify({ tenantId: 'huge', padding: 'x'.repeat(size) }),
        headers: { 'content-type': 'application/json' },
      });
      assertError(reply, 400, 'invalid_request', '16 KiB');
      assertSecured(reply);
    }
  });

  it('an undecodable path segment is 400 invalid_user_id, once the caller is known', async () => {
    const admin = await client.tenant(operatorKey, 'escapes');
    assertError(await client.call('GET', '/v1/users/%E0%A4%A', { key: admin }), 400, 'invalid_user_id');
    assertError(await client.call('GET', '/v1/users/%E0%A4%A'), 401, 'unauthorized');
  });
});

describe('tenants (operator key)', () => {
  it('creates a tenant with a bootstrap admin key shown once', async () => {
    const reply = await client.call('POST', '/v1/tenants', {
      key: operatorKey,
      body: { tenantId: 'acme', issuer: 'Acme Hosting' },
    });
    assert.equal(reply.status, 201, reply.text);
    assert.equal(reply.body.tenantId, 'acme');
    assert.equal(reply.body.issuer, 'Acme Hosting');
    assert.deepEqual(Object.keys(reply.body.apiKey).sort(), ['id', 'name', 'scopes', 'secret']);
    assert.equal(reply.body.apiKey.name, 'bootstrap');
    assert.deepEqual(reply.body.apiKey.scopes, ['admin']);
    const settings = await client.call('GET', '/v1/settings', { key: reply.body.apiKey.secret });
    assert.equal(settings.status, 200);
  });

  it('the issuer defaults to the tenant id', async () => {
    const reply = await client.call('POST', '/v1/tenants', { key: operatorKey, body: { tenantId: 'plain' } });
    assert.equal(reply.body.issuer, 'plain');
    const read = await client.call('GET', '/v1/tenants/plain', { key: operatorKey });
    assert.equal(read.status, 200);
    assert.deepEqual(Object.keys(read.body).sort(), ['createdAt', 'issuer', 'policy', 'tenantId']);
    assert.equal(read.body.policy, 'enabled');
    assert.match(read.body.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('an existing id is 409 tenant_exists, and the first tenant is untouched', async () => {
    await client.tenant(operatorKey, 'twice', 'First');
    assertError(
      await client.call('POST', '/v1/tenants', {
        key: operatorKey,
        body: { tenantId: 'twice', issuer: 'Second' },
      }),
      409,
      'tenant_exists',
    );
    const read = await client.call('GET', '/v1/tenants/twice', { key: operatorKey });
    assert.equal(read.body.issuer, 'First');
  });

  for (const tenantId of ['', 'Acme', '-acme', 'acme_1', 'a'.repeat(64), 'acme.com']) {
    it(`refuses tenant id ${JSON.stringify(tenantId)}`, async () => {
      assertError(
        await client.call('POST', '/v1/tenants', { key: operatorKey, body: { tenantId } }),
        400,
        'invalid_tenant_id',
        'tenantId',
      );
    });
  }

  it('refuses a missing or mistyped tenantId, and a bad issuer', async () => {
    assertError(
      await client.call('POST', '/v1/tenants', { key: operatorKey, body: {} }),
      400,
      'invalid_request',
      'tenantId',
    );
    assertError(
      await client.call('POST', '/v1/tenants', { key: operatorKey, body: { tenantId: 7 } }),
      400,
      'invalid_request',
      'tenantId',
    );
    assertError(
      await client.call('POST', '/v1/tenants', {
        key: operatorKey,
        body: { tenantId: 'bad-issuer', issuer: 'a:b' },
      }),
      400,
      'invalid_issuer',
    );
    assertError(
      await client.call('GET', '/v1/tenants/bad-issuer', { key: operatorKey }),
      404,
      'tenant_not_found',
    );
  });

  it('GET of an unknown tenant is 404 tenant_not_found', async () => {
    assertError(
      await client.call('GET', '/v1/tenants/nobody', { key: operatorKey }),
      404,
      'tenant_not_found',
    );
  });

  it('needs the operator key: none or unknown is 401, a tenant key is 403', async () => {
    const admin = await client.tenant(operatorKey, 'keyed');
    assertError(await client.call('POST', '/v1/tenants', { body: { tenantId: 'x1' } }), 401, 'unauthorized');
    assertError(
      await client.call('POST', '/v1/tenants', { key: 'wrong', body: { tenantId: 'x1' } }),
      401,
      'unauthorized',
    );
    assertError(
      await client.call('POST', '/v1/tenants', { key: admin, body: { tenantId: 'x1' } }),
      403,
      'forbidden',
    );
    assertError(await client.call('GET', '/v1/tenants/keyed', { key: admin }), 403, 'forbidden');
    // The operator key is not a tenant key.
    assertError(await client.call('GET', '/v1/settings', { key: operatorKey }), 403, 'forbidden');
  });
});

describe('request bodies', () => {
  it('a body that is not JSON is 400 invalid_request', async () => {
    const reply = await client.call('POST', '/v1/tenants', {
      key: operatorKey,
      rawBody: '{"tenantId": ',
      headers: { 'content-type': 'application/json' },
    });
    assertError(reply, 400, 'invalid_request', 'JSON');
  });

  it('JSON that is not an object is 400 invalid_request', async () => {
    for (const rawBody of ['[]', '"acme"', '42', 'null']) {
      const reply = await client.call('POST', '/v1/tenants', {
        key: operatorKey,
        rawBody,
        headers: { 'content-type': 'application/json' },
      });
      assertError(reply, 400, 'invalid_request', 'object');
    }
  });

  it('a body over 16 KiB is 400 invalid_request', async () => {
    const reply = await client.call('POST', '/v1/tenants', {
      key: operatorKey,
      body: { tenantId: 'big', issuer: 'x', padding: 'x'.repeat(16 * 1024) },
    });
    assertError(reply, 400, 'invalid_request', '16 KiB');
    assertError(await client.call('GET', '/v1/tenants/big', { key: operatorKey }), 404, 'tenant_not_found');
  });

  it('reads the content type case-insensitively, and refuses other types', async () => {
    const ok = await client.call('POST', '/v1/tenants', {
      key: operatorKey,
      rawBody: JSON.stringify({ tenantId: 'casey' }),
      headers: { 'Content-Type': 'Application/JSON; charset=UTF-8' },
    });
    assert.equal(ok.status, 201, ok.text);
    const form = await client.call('POST', '/v1/tenants', {
      key: operatorKey,
      rawBody: 'tenantId=formy',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assertError(form, 400, 'invalid_request', 'content-type');
  });
});

describe('settings (admin)', () => {
  let admin: string;
  before(async () => {
    admin = await client.tenant(operatorKey, 'settled', 'Settled Hosting');
  });

  it('GET answers the whole settings object with the defaults', async () => {
    const reply = await client.call('GET', '/v1/settings', { key: admin });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, {
      tenantId: 'settled',
      issuer: 'Settled Hosting',
      policy: 'enabled',
      totp: { algorithm: 'SHA1', digits: 6, period: 30, window: 1 },
      lockout: { maxFailures: 5, lockSeconds: 300 },
      setupTtlSeconds: 600,
      maxAuthenticators: 5,
      enrolment: { required: false, deadline: null, graceDays: 14 },
    });
  });

  it('PATCH changes a subset and answers the whole new settings', async () => {
    const reply = await client.call('PATCH', '/v1/settings', {
      key: admin,
      body: { issuer: 'New Name', totp: { digits: 8 }, lockout: { lockSeconds: 60 } },
    });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body.issuer, 'New Name');
    assert.deepEqual(reply.body.totp, { algorithm: 'SHA1', digits: 8, period: 30, window: 1 });
    assert.deepEqual(reply.body.lockout, { maxFailures: 5, lockSeconds: 60 });
    const read = await client.call('GET', '/v1/settings', { key: admin });
    assert.deepEqual(read.body, reply.body);
    const tenant = await client.call('GET', '/v1/tenants/settled', { key: operatorKey });
    assert.equal(tenant.body.issuer, 'New Name');
  });

  const refused: [Record<string, unknown>, string][] = [
    [{ issuer: 'a:b' }, 'invalid_issuer'],
    [{ issuer: '' }, 'invalid_issuer'],
    [{ issuer: 'x'.repeat(65) }, 'invalid_issuer'],
    [{ policy: 'maybe' }, 'invalid_settings'],
    [{ totp: { algorithm: 'MD5' } }, 'invalid_settings'],
    [{ totp: { digits: 7 } }, 'invalid_settings'],
    [{ totp: { period: 14 } }, 'invalid_settings'],
    [{ totp: { period: 121 } }, 'invalid_settings'],
    [{ totp: { window: 4 } }, 'invalid_settings'],
    [{ lockout: { maxFailures: 0 } }, 'invalid_settings'],
    [{ lockout: { maxFailures: 101 } }, 'invalid_settings'],
    [{ lockout: { lockSeconds: 0 } }, 'invalid_settings'],
    [{ lockout: { lockSeconds: 86401 } }, 'invalid_settings'],
    [{ setupTtlSeconds: 59 }, 'invalid_settings'],
    [{ setupTtlSeconds: 86401 }, 'invalid_settings'],
    [{ tenantId: 'other' }, 'invalid_settings'],
    [{ nonsense: true }, 'invalid_settings'],
    [{ totp: { digits: '8' } }, 'invalid_request'],
  ];
  for (const [body, code] of refused) {
    it(`PATCH ${JSON.stringify(body).slice(0, 60)} → 400 ${code}, nothing changed`, async () => {
      const before = await client.call('GET', '/v1/settings', { key: admin });
      // A valid field beside the bad one must not be applied either.
      assertError(
        await client.call('PATCH', '/v1/settings', { key: admin, body: { policy: 'disabled', ...body } }),
        400,
        code,
      );
      const after = await client.call('GET', '/v1/settings', { key: admin });
      assert.deepEqual(after.body, before.body);
    });
  }

  it('PATCH without a body is 400', async () => {
    assertError(await client.call('PATCH', '/v1/settings', { key: admin }), 400, 'invalid_request');
  });
});

describe('keys (admin)', () => {
  let admin: string;
  before(async () => {
    admin = await client.tenant(operatorKey, 'keysmith');
  });

  it('creates a key with its secret once, and lists keys without secrets', async () => {
    const made = await client.call('POST', '/v1/keys', {
      key: admin,
      body: { name: 'support-bot', scopes: ['support'] },
    });
    assert.equal(made.status, 201, made.text);
    assert.deepEqual(Object.keys(made.body).sort(), ['createdAt', 'id', 'name', 'scopes', 'secret']);
    assert.deepEqual(made.body.scopes, ['support']);
    const listed = await client.call('GET', '/v1/keys', { key: admin });
    assert.equal(listed.status, 200);
    assert.equal(listed.body.keys.length, 2);
    for (const key of listed.body.keys)
      assert.deepEqual(Object.keys(key).sort(), ['createdAt', 'id', 'name', 'scopes']);
    assert.ok(!listed.text.includes(made.body.secret.split('.').at(-1)), 'no secret in the list');
    assert.ok(listed.body.keys.some((k: { id: string }) => k.id === made.body.id));
  });

  it('keys are random, at least 128 bits, and unique', async () => {
    const a = await client.call('POST', '/v1/keys', { key: admin, body: { name: 'a', scopes: ['users'] } });
    const b = await client.call('POST', '/v1/keys', { key: admin, body: { name: 'a', scopes: ['users'] } });
    assert.notEqual(a.body.secret, b.body.secret);
    assert.notEqual(a.body.id, b.body.id);
    const secretPart = Buffer.from(a.body.secret.split('.').at(-1), 'base64url');
    assert.ok(secretPart.length >= 16);
  });

  it('refuses bad key requests, naming the field', async () => {
    for (const [body, field] of [
      [{ scopes: ['users'] }, 'name'],
      [{ name: '', scopes: ['users'] }, 'name'],
      [{ name: 'x', scopes: [] }, 'scopes'],
      [{ name: 'x', scopes: ['root'] }, 'scopes'],
      [{ name: 'x', scopes: 'users' }, 'scopes'],
      [{ name: 5, scopes: ['users'] }, 'name'],
    ] as const) {
      assertError(await client.call('POST', '/v1/keys', { key: admin, body }), 400, 'invalid_request', field);
    }
  });

  it('scopes: users and support keys may not manage keys or settings', async () => {
    for (const scope of ['users', 'support'] as const) {
      const key = await client.key(admin, [scope]);
      assertError(await client.call('GET', '/v1/keys', { key }), 403, 'forbidden');
      assertError(
        await client.call('POST', '/v1/keys', { key, body: { name: 'x', scopes: ['admin'] } }),
        403,
        'forbidden',
      );
      assertError(await client.call('GET', '/v1/settings', { key }), 403, 'forbidden');
      assertError(
        await client.call('PATCH', '/v1/settings', { key, body: { policy: 'disabled' } }),
        403,
        'forbidden',
      );
    }
  });

  it('a deleted key stops working at once', async () => {
    const made = await client.call('POST', '/v1/keys', {
      key: admin,
      body: { name: 'temp', scopes: ['admin'] },
    });
    const temp = made.body.secret as string;
    assert.equal((await client.call('GET', '/v1/keys', { key: temp })).status, 200);
    const deleted = await client.call('DELETE', `/v1/keys/${made.body.id}`, { key: admin });
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, '');
    assertError(await client.call('GET', '/v1/keys', { key: temp }), 401, 'unauthorized');
    assertError(
      await client.call('DELETE', `/v1/keys/${made.body.id}`, { key: admin }),
      404,
      'key_not_found',
    );
  });

  it("a tenant's key never reaches another tenant's keys", async () => {
    const other = await client.tenant(operatorKey, 'otherkeys');
    const mine = await client.call('GET', '/v1/keys', { key: admin });
    const theirs = await client.call('GET', '/v1/keys', { key: other });
    const myIds = new Set(mine.body.keys.map((k: { id: string }) => k.id));
    assert.ok(theirs.body.keys.every((k: { id: string }) => !myIds.has(k.id)));
    const victim = mine.body.keys[0].id;
    assertError(await client.call('DELETE', `/v1/keys/${victim}`, { key: other }), 404, 'key_not_found');
    assert.equal(
      (await client.call('GET', '/v1/keys', { key: admin })).body.keys.length,
      mine.body.keys.length,
    );
  });

  it('a forged key for an existing tenant and key id is 401', async () => {
    const [prefix, tenant, id] = admin.split('.');
    const forged = `${prefix}.${tenant}.${id}.${'A'.repeat(43)}`;
    assertError(await client.call('GET', '/v1/keys', { key: forged }), 401, 'unauthorized');
    assertError(
      await client.call('GET', '/v1/keys', { key: admin.replace('keysmith', 'otherkeys') }),
      401,
      'unauthorized',
    );
    assertError(
      await client.call('GET', '/v1/keys', { headers: { authorization: `Basic ${admin}` } }),
      401,
      'unauthorized',
    );
  });
});

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TfaApiError, pages, tfaClient } from '../../client/tfaClient.ts';
import { backoffMs, DEFAULT_RETRY, retryAfterMs } from '../../client/retry.ts';
import { contractFetch } from '../support/contract.ts';
import { startTestService } from '../support/service.ts';
import { enrol } from '../support/users.ts';

const service = await startTestService();
const { client, operatorKey, storeProxy } = service;
const FAST = { baseDelayMs: 20, maxDelayMs: 50 };
let admin: string;
let support: string;

before(async () => {
  admin = await client.tenant(operatorKey, 'typed', 'Typed Hosting');
  support = await client.key(admin, ['support']);
});

/** The statuses the client's transport saw, under its retries: each try is one. */
function recording() {
  const statuses: (number | string)[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    try {
      const response = await contractFetch(input, init);
      statuses.push(response.status);
      return response;
    } catch (error) {
      statuses.push(String((error as { cause?: { code?: string } }).cause?.code ?? error));
      throw error;
    }
  };
  return { statuses, fetch };
}

/**
 * A front on the wire between the client and the service: `answer` decides, for the
 * n-th request, whether to cut the connection, answer on its own, or forward it.
 */
async function front(answer: (n: number, req: IncomingMessage, res: ServerResponse) => 'forward' | 'done') {
  let n = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (answer(n++, req, res) === 'done') return;
    const upstream = await fetch(`${service.url}${req.url}`, {
      method: req.method,
      headers: Object.fromEntries(Object.entries(req.headers).filter(([name]) => name !== 'host')) as Record<
        string,
        string
      >,
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
    });
    res.writeHead(upstream.status, Object.fromEntries(upstream.headers));
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  after(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => n };
}

describe('the typed client', () => {
  it('answers the API body, typed, for a whole enrolment', async () => {
    const users = await client.key(admin, ['users']);
    const { setup } = await enrol(client, users, 'ann');
    assert.match(setup.otpauthUri, /^otpauth:\/\/totp\/Typed%20Hosting:ann\?/);
    const status = await client.typed(support).users.status('ann');
    assert.equal(status.enabled, true);
    assert.equal(status.recoveryCodesRemaining, 10);
  });

  it('throws a TfaApiError carrying the contract code, status, message and request id', async () => {
    const users = await client.key(admin, ['users']);
    await assert.rejects(client.typed(users).users.verify('nobody', '123456'), (error: unknown) => {
      assert.ok(error instanceof TfaApiError);
      assert.equal(error.status, 404);
      assert.equal(error.code, 'not_enrolled');
      assert.equal(error.message, 'the user has no active authenticator');
      assert.match(error.requestId ?? '', /.+/);
      return true;
    });
    await assert.rejects(client.typed(users).keys.list(), {
      name: 'TfaApiError',
      code: 'forbidden',
      status: 403,
    });
    await assert.rejects(client.typed('tfa.typed.x.y').settings.get(), { code: 'unauthorized', status: 401 });
  });

  it('walks every page of a listing with pages()', async () => {
    const users = await client.key(admin, ['users']);
    for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) await client.typed(users).users.setup(id);
    const api = client.typed(support);
    const seen: string[] = [];
    let count = 0;
    for await (const page of pages((cursor) => api.users.list({ limit: 2, cursor }))) {
      count++;
      seen.push(...page.users.map((u) => u.userId));
    }
    assert.deepEqual(
      seen.filter((id) => id.startsWith('p')),
      ['p1', 'p2', 'p3', 'p4', 'p5'],
    );
    assert.ok(count >= 3, `${count} pages`);
  });
});

describe('the typed client retries', () => {
  it("503 from the service: it waits the answer's Retry-After, then succeeds", async () => {
    // The store throttles past the handler's own retries once: the service answers 503.
    storeProxy.add({ target: 'DynamoDB_20120810.BatchGetItem', fault: 'throttle', times: 3 });
    const { statuses, fetch } = recording();
    const started = Date.now();
    try {
      const api = tfaClient({ url: service.url, key: support, fetch, retry: FAST });
      const status = await api.users.status('ann');
      assert.equal(status.enabled, true);
    } finally {
      storeProxy.clear();
    }
    assert.equal(statuses[0], 503);
    assert.equal(statuses.at(-1), 200);
    // Retry-After: 1 was honoured, not the 20 ms backoff.
    assert.ok(
      Date.now() - started >= 950 * (statuses.length - 1),
      `${Date.now() - started} ms for ${statuses}`,
    );
  });

  it('429 from the gateway: Retry-After as seconds and as an HTTP date, then the answer', async () => {
    const gateway = await front((n, _req, res) => {
      if (n > 1) return 'forward';
      // An HTTP date has whole seconds: two from now is at least one second's wait.
      const retryAfter = n === 0 ? '0' : new Date(Date.now() + 2000).toUTCString();
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': retryAfter });
      res.end('{"message":"Too Many Requests"}');
      return 'done';
    });
    const started = Date.now();
    const settings = await tfaClient({ url: gateway.url, key: admin, retry: FAST }).settings.get();
    assert.equal(settings.issuer, 'Typed Hosting');
    assert.equal(gateway.requests(), 3);
    assert.ok(Date.now() - started >= 950, 'the HTTP date was waited for');
  });

  it('gives up after its retries, with the status and a code saying the body was not the contract', async () => {
    const gateway = await front((_n, _req, res) => {
      res.writeHead(429, { 'content-type': 'application/json' });
      res.end('{"message":"Too Many Requests"}');
      return 'done';
    });
    const api = tfaClient({ url: gateway.url, key: admin, retry: { ...FAST, retries: 2 } });
    await assert.rejects(api.settings.get(), { status: 429, code: 'unexpected_response' });
    assert.equal(gateway.requests(), 3);
  });

  it('does not retry what the service refused', async () => {
    const gateway = await front(() => 'forward');
    await assert.rejects(tfaClient({ url: gateway.url, key: 'nope', retry: FAST }).settings.get(), {
      code: 'unauthorized',
    });
    assert.equal(gateway.requests(), 1);
  });

  it('a connection cut after the service answered: a GET is tried again, and so is a POST, under its key', async () => {
    // The front serves the first request, then cuts the connection before the reply.
    const cutFirstReply = async () => {
      const keys: (string | undefined)[] = [];
      let n = 0;
      const server = createServer(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        keys.push(req.headers['idempotency-key'] as string | undefined);
        const upstream = await fetch(`${service.url}${req.url}`, {
          method: req.method,
          headers: Object.fromEntries(
            Object.entries(req.headers).filter(([name]) => name !== 'host' && name !== 'content-length'),
          ) as Record<string, string>,
          ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
        });
        const body = Buffer.from(await upstream.arrayBuffer());
        if (n++ === 0) {
          req.socket.destroy();
          return;
        }
        res.writeHead(upstream.status, Object.fromEntries(upstream.headers));
        res.end(body);
      });
      server.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      after(() => new Promise((resolve) => server.close(resolve)));
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, keys };
    };
    const forGet = await cutFirstReply();
    const keys = await tfaClient({ url: forGet.url, key: admin, retry: FAST }).keys.list();
    assert.ok(keys.keys.length >= 2);
    assert.deepEqual(forGet.keys, [undefined, undefined], 'a GET carries no key');

    const forPost = await cutFirstReply();
    const before = (await client.typed(admin).keys.list()).keys.length;
    const made = await tfaClient({ url: forPost.url, key: admin, retry: FAST }).keys.create({
      name: 'once',
      scopes: ['users'],
    });
    assert.equal(forPost.keys.length, 2, 'the POST was sent again');
    assert.match(forPost.keys[0] ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(forPost.keys[1], forPost.keys[0], 'under the same Idempotency-Key');
    const listed = (await client.typed(admin).keys.list()).keys;
    assert.equal(listed.length, before + 1, 'one key was made, not two');
    assert.ok(
      listed.some((k) => k.id === made.id),
      'the answer is the key made',
    );
  });

  it('a 503 after the service acted: the POST is sent again under its key, and one key is made', async () => {
    // The service makes the key, then its answer is lost behind a 503, as when a
    // request's time runs out after its write.
    let seen = 0;
    const keys = new Set<string>();
    const server = createServer(async (req, res) => {
      seen++;
      keys.add(String(req.headers['idempotency-key']));
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const upstream = await fetch(`${service.url}${req.url}`, {
        method: req.method,
        headers: {
          authorization: String(req.headers.authorization),
          'content-type': 'application/json',
          'idempotency-key': String(req.headers['idempotency-key']),
        },
        body: Buffer.concat(chunks),
      });
      await upstream.arrayBuffer();
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end('{"error":{"code":"service_unavailable","message":"the service is busy; retry later"}}');
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    after(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const before = (await client.typed(admin).keys.list()).keys.length;
    await assert.rejects(
      tfaClient({ url, key: admin, retry: { ...FAST, retries: 2 } }).keys.create({
        name: 'minted-once',
        scopes: ['users'],
      }),
      { status: 503, code: 'service_unavailable' },
    );
    assert.equal(seen, 3, 'the POST was tried three times');
    assert.equal(keys.size, 1, 'under one Idempotency-Key');
    assert.equal((await client.typed(admin).keys.list()).keys.length, before + 1, 'one key was made');
  });

  it('409 idempotency_in_flight is waited out and tried again; another 409 is the answer', async () => {
    let n = 0;
    const gateway = await front((_n, _req, res) => {
      if (n++ > 0) return 'forward';
      res.writeHead(409, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end('{"error":{"code":"idempotency_in_flight","message":"a request with this key is in flight"}}');
      return 'done';
    });
    const made = await tfaClient({ url: gateway.url, key: admin, retry: FAST }).keys.create({
      name: 'after-in-flight',
      scopes: ['users'],
    });
    assert.match(made.secret, /^tfa\.typed\./);
    assert.equal(gateway.requests(), 2);
    const taken = await front(() => 'forward');
    await assert.rejects(
      tfaClient({ url: taken.url, key: operatorKey, retry: FAST }).tenants.create({ tenantId: 'typed' }),
      { status: 409, code: 'tenant_exists' },
    );
    assert.equal(taken.requests(), 1);
  });

  it('a refused connection never reached a server: even a POST is tried again', async () => {
    // A port nothing listens on: the first try is refused by the OS, the next goes through.
    const dead = createServer();
    dead.listen(0, '127.0.0.1');
    await new Promise((resolve) => dead.once('listening', resolve));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise((resolve) => dead.close(resolve));
    const { statuses, fetch: recorded } = recording();
    let tries = 0;
    const firstRefused: typeof fetch = (input, init) => {
      const request = new Request(input, init);
      const url =
        tries++ === 0 ? request.url.replace(service.url, `http://127.0.0.1:${deadPort}`) : request.url;
      return recorded(new Request(url, request));
    };
    const key = await tfaClient({
      url: service.url,
      key: admin,
      fetch: firstRefused,
      retry: FAST,
    }).keys.create({
      name: 'after-refusal',
      scopes: ['users'],
    });
    assert.match(key.secret, /^tfa\.typed\./);
    assert.deepEqual(statuses, ['ECONNREFUSED', 201]);
  });

  it('backs off with full jitter under a doubling ceiling, and reads Retry-After both ways', () => {
    assert.equal(
      backoffMs(DEFAULT_RETRY, 0, () => 0.999),
      199,
    );
    assert.equal(
      backoffMs(DEFAULT_RETRY, 3, () => 0.5),
      800,
    );
    assert.equal(
      backoffMs(DEFAULT_RETRY, 10, () => 0.999),
      4995,
    );
    assert.equal(
      backoffMs(DEFAULT_RETRY, 2, () => 0),
      0,
    );
    assert.equal(retryAfterMs('7'), 7000);
    assert.equal(retryAfterMs(new Date(61_000).toUTCString(), 1_000), 60_000);
    assert.equal(retryAfterMs('soon'), undefined);
    assert.equal(retryAfterMs(null), undefined);
  });
});

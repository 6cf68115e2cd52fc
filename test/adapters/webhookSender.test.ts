import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { deliveryHeaders, newWebhookSecret } from '../../lib/crypto/webhookSignature.ts';
import { forbiddenAddress } from '../../lib/webhooks/addresses.ts';
import { send, urlProblem, vet } from '../../lib/webhooks/sender.ts';
import { startDnsServer } from '../support/dnsServer.ts';

/**
 * The way out to webhook endpoints, mounted as an attacker would use it: an endpoint
 * URL that points at the service's own network, the cloud's metadata service, an
 * address class in disguise (IPv4-mapped, NAT64, 6to4), a name that resolves outside
 * at registration and inside at delivery (a real DNS server on 127.0.0.1 answers the
 * resolver), a redirect inside, a receiver that never answers or answers forever.
 * Every delivery a receiver gets is verified with the `standardwebhooks` package, as a
 * receiver would, not with our signer.
 */

describe('the addresses a webhook may not reach', () => {
  it('refuses each inside class, also in disguise, and lets public addresses through', () => {
    const cases: [string, string | undefined][] = [
      ['127.0.0.1', 'loopback'],
      ['127.8.9.10', 'loopback'],
      ['::1', 'loopback'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'], // AWS, GCP and Azure metadata
      ['fe80::1', 'link-local'],
      ['fd00:ec2::254', 'unique-local'], // AWS metadata over IPv6
      ['fc00::1', 'unique-local'],
      ['100.100.100.200', 'shared (carrier-grade NAT)'], // Alibaba metadata
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:7f00:1', 'loopback'],
      ['64:ff9b::a00:1', 'private'], // NAT64 of 10.0.0.1
      ['64:ff9b::7f00:1', 'loopback'],
      ['2002:a9fe:a9fe::1', 'link-local'], // 6to4 of 169.254.169.254
      ['not an address', 'reserved'],
      ['93.184.216.34', undefined],
      ['172.32.0.1', undefined],
      ['2606:4700:4700::1111', undefined],
      ['64:ff9b::5db8:d822', undefined], // NAT64 of a public address
    ];
    for (const [address, expected] of cases) assert.equal(forbiddenAddress(address), expected, address);
  });

  it('judges the URL itself: https only, no credentials, no fragment, at most 2,048 characters', () => {
    assert.equal(urlProblem('https://panel.example/hooks', false), undefined);
    assert.match(urlProblem('http://panel.example/hooks', false) ?? '', /https:\/\//);
    assert.match(urlProblem('https://user:pw@panel.example/', false) ?? '', /user name or password/);
    assert.match(urlProblem('https://panel.example/#x', false) ?? '', /fragment/);
    assert.match(urlProblem(`https://panel.example/${'a'.repeat(2048)}`, false) ?? '', /2048/);
    assert.match(urlProblem('panel.example/hooks', false) ?? '', /absolute/);
    // Local mode's loopback receivers: plain http to 127.0.0.1 or localhost, nothing else.
    assert.equal(urlProblem('http://127.0.0.1:8080/hooks', true), undefined);
    assert.equal(urlProblem('http://localhost:8080/hooks', true), undefined);
    assert.match(urlProblem('http://10.0.0.1:8080/hooks', true) ?? '', /https:\/\//);
  });
});

describe('resolving and sending', () => {
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  let receiver: ReturnType<typeof createServer>;
  let base: string;
  const received: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  let answer: (request: IncomingMessage, response: ServerResponse) => void = (_q, s) => s.end();

  before(async () => {
    dns = await startDnsServer({
      'public.test': ['93.184.216.34', '2606:4700:4700::1111'],
      'inside.test': ['10.0.0.5'],
      'mixed.test': ['93.184.216.34', '127.0.0.1'],
      'metadata.test': ['fd00:ec2::254'],
      'rebind.test': ['93.184.216.34'],
    });
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push({ url: request.url ?? '', headers: request.headers, body });
        answer(request, response);
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    base = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  });
  after(async () => {
    receiver.closeAllConnections();
    receiver.close();
    await dns.close();
  });

  const outside = () => ({ allowLoopback: false, dnsServers: [dns.server] });

  it('resolves a name at each call and refuses it if any address is inside', async () => {
    const ok = await vet('https://public.test/hooks', outside());
    assert.ok(ok.ok);
    assert.equal(ok.address, '93.184.216.34');
    for (const [name, says] of [
      ['inside.test', /private/],
      ['mixed.test', /loopback/],
      ['metadata.test', /unique-local/],
    ] as const) {
      const refused = await vet(`https://${name}/hooks`, outside());
      assert.ok(!refused.ok);
      assert.match(refused.problem, says, name);
    }
    const unknown = await vet('https://nowhere.test/hooks', outside());
    assert.ok(!unknown.ok && unknown.retry, 'a name that does not resolve now may resolve later');
    for (const literal of [
      'https://169.254.169.254/latest',
      'https://[::1]/',
      'https://0x7f.1/',
      'https://[::ffff:a00:1]/',
    ]) {
      assert.ok(!(await vet(literal, outside())).ok, literal);
    }
  });

  it('a name that resolves outside at registration and inside at delivery is refused at delivery, without a connection', async () => {
    assert.ok((await vet('https://rebind.test/hooks', outside())).ok, 'outside at registration');
    dns.set('rebind.test', ['127.0.0.1']);
    const before = received.length;
    const port = new URL(base).port;
    const result = await send(`https://rebind.test:${port}/hooks`, {}, '{}', outside());
    assert.deepEqual(result, {
      delivered: false,
      status: null,
      error: 'rebind.test resolves to a loopback address, which is refused',
      gone: false,
    });
    assert.equal(received.length, before, 'nothing reached the receiver');
    // And loopback itself, without local mode's allowance, is refused the same way.
    assert.equal((await send(`${base}/hooks`, {}, '{}', outside())).delivered, false);
    assert.equal(received.length, before);
  });

  it('delivers signed per Standard Webhooks: each secret of a rotation verifies on its own', async () => {
    const [older, newer] = [newWebhookSecret(), newWebhookSecret()];
    assert.match(newer, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ type: 'tfa.webhook.test', timestamp: new Date().toISOString(), data: {} });
    const headers = deliveryHeaders([newer, older], 'msg_1', Math.floor(Date.now() / 1000), body);
    answer = (_q, response) => response.writeHead(204).end();
    const result = await send(`${base}/hooks`, headers, body, { allowLoopback: true });
    assert.deepEqual(result, { delivered: true, status: 204 });
    const got = received.at(-1);
    assert.ok(got);
    assert.equal(got.body, body);
    assert.equal(got.headers['content-type'], 'application/json');
    const asReceived = got.headers as Record<string, string>;
    for (const secret of [newer, older])
      assert.deepEqual(new Webhook(secret).verify(got.body, asReceived), JSON.parse(body));
    assert.throws(() => new Webhook(newWebhookSecret()).verify(got.body, asReceived), /signature/i);
    assert.throws(() => new Webhook(newer).verify(`${got.body} `, asReceived), /signature/i);
  });

  it('410 is gone; a redirect is not followed; no answer in time is a failure; a huge answer is cut', async () => {
    answer = (_q, response) => response.writeHead(410).end('gone');
    assert.deepEqual(await send(`${base}/a`, {}, '{}', { allowLoopback: true }), {
      delivered: false,
      status: 410,
      error: 'answered 410',
      gone: true,
    });
    answer = (_q, response) => response.writeHead(302, { location: `${base}/inside` }).end();
    const redirected = await send(`${base}/b`, {}, '{}', { allowLoopback: true });
    assert.equal(redirected.delivered, false);
    assert.equal(received.filter((r) => r.url === '/inside').length, 0, 'the redirect was not followed');

    answer = () => {}; // never answers
    const started = Date.now();
    const silent = await send(`${base}/c`, {}, '{}', { allowLoopback: true, timeoutMs: 300 });
    assert.deepEqual(silent, { delivered: false, status: null, error: 'no answer in time', gone: false });
    assert.ok(Date.now() - started < 5000);

    // An answer that never ends: the sender stops reading at 64 KiB, well before its timeout.
    answer = (_q, response) => {
      response.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const more = () => {
        while (!response.destroyed) if (!response.write(chunk)) return void response.once('drain', more);
      };
      more();
    };
    const endless = Date.now();
    assert.deepEqual(await send(`${base}/d`, {}, '{}', { allowLoopback: true, timeoutMs: 10_000 }), {
      delivered: true,
      status: 200,
    });
    assert.ok(Date.now() - endless < 5000, 'cut at 64 KiB, not at the timeout');
  });
});

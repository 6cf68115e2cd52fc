import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { SsmOperatorKey } from '../../lib/crypto/operatorKey.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// Dummy credentials, as local mode sets them: the endpoint below is ours, not AWS.
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';

// A local endpoint speaking SSM's JSON 1.1 protocol (AmazonSSM.GetParameter) for the
// real @aws-sdk/client-ssm.
const parameters = new Map<string, string>();
let calls = 0;
let failing = false;
const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const input = JSON.parse(Buffer.concat(chunks).toString());
  calls++;
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(body));
  };
  if (failing) return reply(400, { __type: 'ThrottlingException', message: 'Rate exceeded (injected)' });
  if (req.headers['x-amz-target'] !== 'AmazonSSM.GetParameter')
    return reply(400, { __type: 'InvalidAction' });
  const value = parameters.get(input.Name);
  if (value === undefined) return reply(400, { __type: 'ParameterNotFound', message: 'not found' });
  assert.equal(input.WithDecryption, true, 'a SecureString is read decrypted');
  return reply(200, { Parameter: { Name: input.Name, Type: 'SecureString', Value: value, Version: 1 } });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

describe('the operator key from SSM, over the wire', () => {
  const hashOf = (key: string) => createHash('sha256').update(key).digest('hex');

  it('reads the SecureString once, and again only after its time', async () => {
    parameters.set('/tfa/test/operator-key-hash', `${hashOf('operator-1')}\n`);
    let now = 0;
    const source = new SsmOperatorKey(
      '/tfa/test/operator-key-hash',
      () => now,
      { endpoint, region: 'local' },
      1000,
    );
    calls = 0;
    assert.equal((await source.hash())?.toString('hex'), hashOf('operator-1'));
    await source.hash();
    assert.equal(calls, 1, 'cached');
    parameters.set('/tfa/test/operator-key-hash', hashOf('operator-2'));
    now = 1001;
    assert.equal((await source.hash())?.toString('hex'), hashOf('operator-2'), 'a rotated key is picked up');
    assert.equal(calls, 2);
  });

  it('a missing parameter means no operator key; a failing SSM throws', async () => {
    const missing = new SsmOperatorKey('/tfa/none', () => 0, { endpoint, region: 'local' });
    assert.equal(await missing.hash(), undefined);
    failing = true;
    try {
      const down = new SsmOperatorKey('/tfa/test/operator-key-hash', () => 0, { endpoint, region: 'local' });
      await assert.rejects(down.hash());
    } finally {
      failing = false;
    }
  });

  it('a value that is not a SHA-256 is no key', async () => {
    parameters.set('/tfa/bad', 'the-operator-key-itself');
    assert.equal(
      await new SsmOperatorKey('/tfa/bad', () => 0, { endpoint, region: 'local' }).hash(),
      undefined,
    );
  });
});

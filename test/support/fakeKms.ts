import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local endpoint speaking the KMS JSON 1.1 protocol (TrentService) for the real
 * @aws-sdk/client-kms: GenerateDataKey, Decrypt and Encrypt, with encryption
 * context bound into the ciphertext as KMS does, and KMS's error answers.
 * Nothing on npm or in Debian emulates KMS; this is the wire-level stand-in.
 * The caller closes it (tests in an `after` hook, the benchmark at its end).
 */
export async function startFakeKms(keyId = 'alias/tfa-test') {
  const master = randomBytes(32);
  const calls: string[] = [];
  let deny = false;

  const context = (ctx: unknown) =>
    Buffer.from(JSON.stringify(Object.entries((ctx ?? {}) as Record<string, string>).sort()), 'utf8');
  const encrypt = (plaintext: Buffer, ctx: unknown) => {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', master, nonce);
    cipher.setAAD(context(ctx));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]);
  };
  const decrypt = (blob: Buffer, ctx: unknown) => {
    const decipher = createDecipheriv('aes-256-gcm', master, blob.subarray(0, 12));
    decipher.setAAD(context(ctx));
    decipher.setAuthTag(blob.subarray(blob.length - 16));
    return Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]);
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const input = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    const action = String(req.headers['x-amz-target'] ?? '').replace('TrentService.', '');
    calls.push(action);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomBytes(8).toString('hex'),
      });
      res.end(JSON.stringify(body));
    };
    const fail = (type: string, message: string) => reply(400, { __type: type, message });
    if (deny) return fail('AccessDeniedException', 'denied (injected)');
    if (input.KeyId !== undefined && input.KeyId !== keyId) return fail('NotFoundException', 'no such key');
    const arn = `arn:aws:kms:local:000000000000:${keyId}`;
    try {
      if (action === 'GenerateDataKey') {
        const plaintext = randomBytes(input.NumberOfBytes ?? (input.KeySpec === 'AES_128' ? 16 : 32));
        const blob = encrypt(plaintext, input.EncryptionContext);
        return reply(200, {
          KeyId: arn,
          Plaintext: plaintext.toString('base64'),
          CiphertextBlob: blob.toString('base64'),
        });
      }
      if (action === 'Encrypt') {
        const blob = encrypt(Buffer.from(input.Plaintext, 'base64'), input.EncryptionContext);
        return reply(200, { KeyId: arn, CiphertextBlob: blob.toString('base64') });
      }
      if (action === 'Decrypt') {
        let plaintext: Buffer;
        try {
          plaintext = decrypt(Buffer.from(input.CiphertextBlob, 'base64'), input.EncryptionContext);
        } catch {
          return fail('InvalidCiphertextException', 'the ciphertext or its encryption context is invalid');
        }
        return reply(200, { KeyId: arn, Plaintext: plaintext.toString('base64') });
      }
      return fail('UnsupportedOperationException', `${action} is not implemented here`);
    } catch (error) {
      return reply(500, { __type: 'KMSInternalException', message: String(error) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const kms = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    keyId,
    calls,
    setDeny(value: boolean) {
      deny = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return kms;
}

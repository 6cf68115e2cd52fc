import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../lib/observability/logger.ts';

/** What the logger writes to stdout and stderr (errors go there) while `fn` runs. */
function captured(fn: () => void): string {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    }) as typeof stream.write;
  }
  try {
    fn();
  } finally {
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
  }
  return lines.join('');
}

describe('logger', () => {
  it('redacts secrets, codes, keys and authorization headers by configuration, at any depth', () => {
    const output = captured(() =>
      createLogger().info('something happened', {
        secret: 'JBSWY3DPEHPK3PXP',
        code: '123456',
        recoveryCodes: ['abcd-efgh-ijkl-mnop'],
        authorization: 'Bearer tfa.acme.k.s3cr3t',
        headers: { Authorization: 'Bearer tfa.acme.k.s3cr3t2' },
        request: { body: '{"code":"654321"}', deeper: { headers: { authorization: 'Bearer x-nested' } } },
        setup: { secret: 'NESTEDSECRET', otpauthUri: 'otpauth://totp/x?secret=NESTEDSECRET' },
        apiKey: { secret: 'tfa.acme.k.s' },
        requestId: 'r-1',
      }),
    );
    for (const leaked of [
      'JBSWY3DPEHPK3PXP',
      '123456',
      'abcd-efgh',
      's3cr3t',
      'x-nested',
      '654321',
      'NESTEDSECRET',
      'tfa.acme.k.s',
    ]) {
      assert.ok(!output.includes(leaked), `${leaked} leaked: ${output}`);
    }
    const line = JSON.parse(output);
    assert.equal(line.requestId, 'r-1', 'what is not secret stays');
    assert.equal(line.level, 'INFO');
    assert.equal(line.message, 'something happened');
    assert.equal(line.secret, '[redacted]');
    assert.match(line.timestamp, /Z$/);
  });

  it('writes one JSON object a line, errors with their stack', () => {
    const output = captured(() =>
      createLogger().error('failed', {
        cause: { name: 'Error', message: 'boom', stack: new Error('boom').stack },
      }),
    );
    const line = JSON.parse(output);
    assert.equal(line.level, 'ERROR');
    assert.equal(line.cause.message, 'boom');
    assert.match(line.cause.stack, /Error: boom/);
  });
});

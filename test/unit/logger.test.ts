import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../lib/observability/logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger(stream), lines };
}

describe('logger', () => {
  it('redacts secrets, codes, keys and authorization headers by configuration, at any call site', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        secret: 'JBSWY3DPEHPK3PXP',
        code: '123456',
        recoveryCodes: ['abcd-efgh-ijkl-mnop'],
        authorization: 'Bearer tfa.acme.k.s3cr3t',
        headers: { authorization: 'Bearer tfa.acme.k.s3cr3t2' },
        request: { body: '{"code":"654321"}', headers: { authorization: 'Bearer x-nested' } },
        setup: { secret: 'NESTEDSECRET', otpauthUri: 'otpauth://totp/x?secret=NESTEDSECRET' },
        apiKey: { secret: 'tfa.acme.k.s' },
        requestId: 'r-1',
      },
      'something happened',
    );
    const output = lines.join('');
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
    assert.equal(line.level, 'info');
    assert.equal(line.secret, '[redacted]');
    assert.match(line.time, /Z$/);
  });

  it('writes one JSON object a line, errors with their stack', () => {
    const { logger, lines } = capture();
    logger.error({ err: new Error('boom') }, 'failed');
    const line = JSON.parse(lines[0] ?? '');
    assert.equal(line.level, 'error');
    assert.equal(line.err.message, 'boom');
    assert.match(line.err.stack, /Error: boom/);
  });
});

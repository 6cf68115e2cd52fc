import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRecoveryCode, parseCode } from '../../lib/domain/codes.ts';

describe('parseCode', () => {
  it('accepts exactly `digits` ASCII digits, trimming ASCII spaces and tabs at the ends', () => {
    assert.deepEqual(parseCode('123456', 6), { kind: 'totp', code: '123456' });
    assert.deepEqual(parseCode(' \t012345 \t', 6), { kind: 'totp', code: '012345' });
    assert.deepEqual(parseCode('12345678', 8), { kind: 'totp', code: '12345678' });
  });

  for (const bad of [
    '',
    '12345',
    '1234567',
    '123 456',
    '١٢٣٤٥٦',
    '１２３４５６',
    '12345a',
    '\n123456',
    '123456\u00a0',
    '0x1234',
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.equal(parseCode(bad, 6), null));
  }

  it('refuses 6 digits when the authenticator has 8', () => assert.equal(parseCode('123456', 8), null));

  it('accepts recovery codes with or without hyphens, in either case, folded to one form', () => {
    for (const input of ['abcd-efgh-2345-6777', 'ABCDEFGH23456777', ' Abcd-EFGH-2345-6777 ']) {
      assert.deepEqual(parseCode(input, 6), { kind: 'recovery', code: 'abcdefgh23456777' });
    }
    assert.equal(parseCode('abcd-efgh-2345-677', 6), null, 'too short');
    assert.equal(parseCode('abcd-efgh-2345-6781', 6), null, '1 and 8 are not base32');
    assert.equal(parseCode('abcd--efgh-2345-6777', 6), null);
  });
});

describe('formatRecoveryCode', () => {
  it('is 16 lower-case base32 characters in four groups', () => {
    const code = formatRecoveryCode(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    assert.match(code, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
    assert.deepEqual(parseCode(code, 6), { kind: 'recovery', code: code.replaceAll('-', '') });
  });

  it('takes exactly 80 bits', () => assert.throws(() => formatRecoveryCode(new Uint8Array(8)), RangeError));
});

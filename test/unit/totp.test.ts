import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodeSecret,
  matchTimeStep,
  otpauthUri,
  SKEW_REACH,
  skewedStep,
  timeStep,
  totpAt,
} from '../../lib/domain/totp.ts';
import { base32Decode, hotp } from '../support/otp.ts';

// RFC 6238 Appendix B: the seeds are 20, 32 and 64 bytes for SHA1, SHA256 and SHA512.
const SEEDS = {
  SHA1: Buffer.from('12345678901234567890'),
  SHA256: Buffer.from('12345678901234567890123456789012'),
  SHA512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
} as const;

const VECTORS: [number, keyof typeof SEEDS, string][] = [
  [59, 'SHA1', '94287082'],
  [59, 'SHA256', '46119246'],
  [59, 'SHA512', '90693936'],
  [1111111109, 'SHA1', '07081804'],
  [1111111109, 'SHA256', '68084774'],
  [1111111109, 'SHA512', '25091201'],
  [1111111111, 'SHA1', '14050471'],
  [1111111111, 'SHA256', '67062674'],
  [1111111111, 'SHA512', '99943326'],
  [1234567890, 'SHA1', '89005924'],
  [1234567890, 'SHA256', '91819424'],
  [1234567890, 'SHA512', '93441116'],
  [2000000000, 'SHA1', '69279037'],
  [2000000000, 'SHA256', '90698825'],
  [2000000000, 'SHA512', '38618901'],
  [20000000000, 'SHA1', '65353130'],
  [20000000000, 'SHA256', '77737706'],
  [20000000000, 'SHA512', '47863826'],
];

describe('TOTP (RFC 6238)', () => {
  for (const [time, algorithm, expected] of VECTORS) {
    it(`Appendix B: T=${time} ${algorithm} → ${expected}`, () => {
      const params = { algorithm, digits: 8, period: 30 } as const;
      assert.equal(totpAt(SEEDS[algorithm], timeStep(time * 1000, 30), params), expected);
      // 6-digit truncation is the last six digits, leading zeros kept.
      assert.equal(
        totpAt(SEEDS[algorithm], timeStep(time * 1000, 30), { ...params, digits: 6 }),
        expected.slice(2),
      );
    });
  }

  it('RFC 4226 Appendix D: HOTP counters 0 to 9', () => {
    const expected = [
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ];
    const params = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
    expected.forEach((code, counter) => {
      assert.equal(totpAt(SEEDS.SHA1, counter, params), code);
      assert.equal(hotp(SEEDS.SHA1, counter), code, 'the test helper agrees with the RFC');
    });
  });
});

describe('matchTimeStep', () => {
  const secret = SEEDS.SHA1;
  const params = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
  const now = 1_800_000_015_000; // 15 s into step 60000000

  it('accepts now−window to now+window and names the step that matched', () => {
    const current = timeStep(now, 30);
    for (const offset of [-1, 0, 1]) {
      assert.equal(matchTimeStep(secret, hotp(secret, current + offset), params, now, 1), current + offset);
    }
    for (const offset of [-2, 2]) {
      assert.equal(matchTimeStep(secret, hotp(secret, current + offset), params, now, 1), null);
    }
  });

  it('window 0 accepts only the current step', () => {
    const current = timeStep(now, 30);
    assert.equal(matchTimeStep(secret, hotp(secret, current), params, now, 0), current);
    assert.equal(matchTimeStep(secret, hotp(secret, current - 1), params, now, 0), null);
  });

  it('takes the window from one reading of the clock at step edges', () => {
    const step = 60_000_000;
    const lastMs = (step + 1) * 30_000 - 1; // s·30 + 29.999
    const firstMs = step * 30_000; // s·30 + 0
    assert.equal(matchTimeStep(secret, hotp(secret, step + 1), params, lastMs, 1), step + 1);
    assert.equal(matchTimeStep(secret, hotp(secret, step + 2), params, lastMs, 1), null);
    assert.equal(matchTimeStep(secret, hotp(secret, step - 1), params, firstMs, 1), step - 1);
    assert.equal(matchTimeStep(secret, hotp(secret, step - 2), params, firstMs, 1), null);
  });

  it('honours digits, period and algorithm', () => {
    const sha512 = { algorithm: 'SHA512', digits: 8, period: 60 } as const;
    const step = timeStep(now, 60);
    assert.equal(matchTimeStep(SEEDS.SHA512, hotp(SEEDS.SHA512, step, 8, 'sha512'), sha512, now, 1), step);
    assert.equal(matchTimeStep(SEEDS.SHA512, hotp(SEEDS.SHA512, step, 8, 'sha1'), sha512, now, 1), null);
  });
});

describe('skewedStep: the clock-skew hint', () => {
  const secret = Buffer.from('12345678901234567890', 'ascii');
  const params = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
  const now = 1_800_000_000_000;
  const at = (offset: number) => totpAt(secret, timeStep(now, 30) + offset, params);

  it('finds a code up to SKEW_REACH steps away, outside the window only', () => {
    for (const offset of [-SKEW_REACH, -4, 2, 5, SKEW_REACH]) {
      assert.equal(skewedStep(secret, at(offset), params, now, 1), offset, `offset ${offset}`);
    }
    for (const offset of [-1, 0, 1]) {
      assert.equal(skewedStep(secret, at(offset), params, now, 1), null, 'inside the window: not a skew');
    }
    assert.equal(skewedStep(secret, at(SKEW_REACH + 1), params, now, 1), null, 'beyond the reach');
    assert.equal(skewedStep(secret, at(3), params, now, 3), null, 'a wider window takes it');
  });
});

describe('secret encoding and the otpauth URI', () => {
  it('encodes base32 without padding, decodable back to the same bytes', () => {
    const secret = Buffer.from('0123456789abcdefghij');
    const encoded = encodeSecret(secret);
    assert.match(encoded, /^[A-Z2-7]{32}$/);
    assert.deepEqual(base32Decode(encoded), secret);
  });

  it('carries every parameter, and encodes issuer and account', () => {
    const uri = otpauthUri({
      issuer: 'Acme Hosting & Co',
      accountName: 'bob+1@example.com',
      secret: 'JBSWY3DPEHPK3PXP',
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
    assert.equal(
      uri,
      'otpauth://totp/Acme%20Hosting%20%26%20Co:bob%2B1%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Acme%20Hosting%20%26%20Co&algorithm=SHA1&digits=6&period=30',
    );
  });
});

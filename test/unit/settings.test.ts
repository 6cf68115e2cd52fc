import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIssuer, isTenantId, isUserId } from '../../lib/domain/identifiers.ts';
import { applySettingsPatch, defaultSettings } from '../../lib/domain/settings.ts';

const base = defaultSettings('Acme');

describe('applySettingsPatch', () => {
  const accepted: [string, Record<string, unknown>, (s: typeof base) => unknown, unknown][] = [
    ['issuer', { issuer: 'Acme Hosting' }, (s) => s.issuer, 'Acme Hosting'],
    ['issuer of 64 characters', { issuer: 'x'.repeat(64) }, (s) => s.issuer.length, 64],
    ['unicode issuer', { issuer: 'Hébergement Ünicode' }, (s) => s.issuer, 'Hébergement Ünicode'],
    ['policy', { policy: 'disabled' }, (s) => s.policy, 'disabled'],
    ['algorithm', { totp: { algorithm: 'SHA512' } }, (s) => s.totp.algorithm, 'SHA512'],
    ['digits 8', { totp: { digits: 8 } }, (s) => s.totp.digits, 8],
    ['period 15', { totp: { period: 15 } }, (s) => s.totp.period, 15],
    ['period 120', { totp: { period: 120 } }, (s) => s.totp.period, 120],
    ['window 0', { totp: { window: 0 } }, (s) => s.totp.window, 0],
    ['window 3', { totp: { window: 3 } }, (s) => s.totp.window, 3],
    ['maxFailures 1', { lockout: { maxFailures: 1 } }, (s) => s.lockout.maxFailures, 1],
    ['maxFailures 100', { lockout: { maxFailures: 100 } }, (s) => s.lockout.maxFailures, 100],
    ['lockSeconds 86400', { lockout: { lockSeconds: 86400 } }, (s) => s.lockout.lockSeconds, 86400],
    ['setupTtlSeconds 60', { setupTtlSeconds: 60 }, (s) => s.setupTtlSeconds, 60],
    ['empty patch', {}, (s) => s, base],
  ];
  for (const [name, patch, read, expected] of accepted) {
    it(`accepts ${name}`, () => {
      const result = applySettingsPatch(base, patch);
      assert.ok(result.ok, JSON.stringify(result));
      assert.deepEqual(read(result.settings), expected);
    });
  }

  it('keeps the fields a partial nested patch does not name', () => {
    const result = applySettingsPatch(base, { totp: { digits: 8 } });
    assert.ok(result.ok);
    assert.deepEqual(result.settings.totp, { algorithm: 'SHA1', digits: 8, period: 30, window: 1 });
    assert.equal(base.totp.digits, 6, 'the current settings are not mutated');
  });

  const refused: [string, Record<string, unknown>, string, string][] = [
    ['empty issuer', { issuer: '' }, 'invalid_issuer', 'issuer'],
    ['issuer of 65 characters', { issuer: 'x'.repeat(65) }, 'invalid_issuer', 'issuer'],
    ['issuer with a colon', { issuer: 'Acme:Hosting' }, 'invalid_issuer', 'issuer'],
    ['issuer with a control character', { issuer: 'Acme\nHosting' }, 'invalid_issuer', 'issuer'],
    ['issuer that is not a string', { issuer: 5 }, 'invalid_request', 'issuer'],
    ['policy off', { policy: 'off' }, 'invalid_settings', 'policy'],
    ['algorithm MD5', { totp: { algorithm: 'MD5' } }, 'invalid_settings', 'totp.algorithm'],
    ['algorithm lower case', { totp: { algorithm: 'sha1' } }, 'invalid_settings', 'totp.algorithm'],
    ['digits 7', { totp: { digits: 7 } }, 'invalid_settings', 'totp.digits'],
    ['digits 10', { totp: { digits: 10 } }, 'invalid_settings', 'totp.digits'],
    ['digits as a string', { totp: { digits: '6' } }, 'invalid_request', 'totp.digits'],
    ['period 14', { totp: { period: 14 } }, 'invalid_settings', 'totp.period'],
    ['period 121', { totp: { period: 121 } }, 'invalid_settings', 'totp.period'],
    ['period 30.5', { totp: { period: 30.5 } }, 'invalid_settings', 'totp.period'],
    ['window 4', { totp: { window: 4 } }, 'invalid_settings', 'totp.window'],
    ['window -1', { totp: { window: -1 } }, 'invalid_settings', 'totp.window'],
    ['maxFailures 0', { lockout: { maxFailures: 0 } }, 'invalid_settings', 'lockout.maxFailures'],
    ['maxFailures 101', { lockout: { maxFailures: 101 } }, 'invalid_settings', 'lockout.maxFailures'],
    ['lockSeconds 0', { lockout: { lockSeconds: 0 } }, 'invalid_settings', 'lockout.lockSeconds'],
    ['lockSeconds 86401', { lockout: { lockSeconds: 86401 } }, 'invalid_settings', 'lockout.lockSeconds'],
    ['setupTtlSeconds 59', { setupTtlSeconds: 59 }, 'invalid_settings', 'setupTtlSeconds'],
    ['setupTtlSeconds 86401', { setupTtlSeconds: 86401 }, 'invalid_settings', 'setupTtlSeconds'],
    ['an unknown field', { colour: 'blue' }, 'invalid_settings', 'colour'],
    ['an unknown nested field', { totp: { skew: 1 } }, 'invalid_settings', 'totp.skew'],
    ['tenantId', { tenantId: 'other' }, 'invalid_settings', 'tenantId'],
    ['totp not an object', { totp: 'SHA1' }, 'invalid_request', 'totp'],
  ];
  for (const [name, patch, code, field] of refused) {
    it(`refuses ${name} with ${code}`, () => {
      const result = applySettingsPatch(base, patch);
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.problem.code, code);
        assert.equal(result.problem.field, field);
        assert.match(result.problem.message, new RegExp(field.replace('.', '\\.')));
      }
    });
  }
});

describe('identifiers', () => {
  it('user ids: 1 to 128 of A-Z a-z 0-9 . _ @ + -', () => {
    for (const ok of ['bob', 'a', 'Bob.Smith_1@example.com', 'x+y-z', 'u'.repeat(128)])
      assert.ok(isUserId(ok), ok);
    assert.ok(isUserId('...'), 'three dots are a name, not a path segment');
    for (const bad of ['', '.', '..', 'u'.repeat(129), 'bob smith', 'bob/..', 'bob#1', 'bøb', 'a%40b', 5]) {
      assert.ok(!isUserId(bad), String(bad));
    }
  });

  it('tenant ids: 1 to 63, ^[a-z0-9][a-z0-9-]*$', () => {
    for (const ok of ['acme', 'a', '0-acme-1', 'a'.repeat(63)]) assert.ok(isTenantId(ok), ok);
    for (const bad of ['', '-acme', 'Acme', 'acme_1', 'a'.repeat(64), 'acme.com'])
      assert.ok(!isTenantId(bad), bad);
  });

  it('issuers: printable, at most 64 code points, no colon', () => {
    assert.ok(isIssuer('😀'.repeat(64)));
    assert.ok(!isIssuer('😀'.repeat(65)));
    assert.ok(!isIssuer('a\u0000b'));
    assert.ok(!isIssuer('a\u200Eb'), 'a format character is not printable');
    assert.ok(!isIssuer('a\u2028b'), 'apps render a line separator as a line break');
    assert.ok(!isIssuer('a\u2029b'), 'and a paragraph separator too');
  });
});

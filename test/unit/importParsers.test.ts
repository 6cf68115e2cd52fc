import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cyberpanelLogins } from '../../lib/domain/imports/cyberpanel.ts';
import { hestiaLogins } from '../../lib/domain/imports/hestia.ts';
import { otpauthLogins } from '../../lib/domain/imports/otpauth.ts';
import { InvalidSource, type SourceLogin } from '../../lib/domain/imports/sourceLogins.ts';
import { webminLogins } from '../../lib/domain/imports/webmin.ts';
import { PROJECT_ROOT } from '../../lib/local/service.ts';

/**
 * The parsers of other panels' exports, on fixtures written as each panel writes them
 * (test/fixtures/imports: HestiaCP's `v-list-user <user> json`, Webmin's miniserv.users
 * and twofactor-users, CyberPanel's loginSystem_administrator as `mysql -B` prints a
 * `SELECT *`, otpauth lists as Authelia and Plesk give them), then fuzzed: any input
 * gives logins or InvalidSource, never another error.
 */

const fixture = (name: string) => readFileSync(join(PROJECT_ROOT, 'test/fixtures/imports', name), 'utf8');
const SHA1 = { algorithm: 'SHA1', digits: 6, period: 30 };
const secretOf = (secret: string, more: object = {}) => ({ secret, parameters: SHA1, ...more });

/** The hashes and other fields the fixtures hold beside the secrets: none may leave a parser. */
const NOT_OURS = [
  '$6$k7Rz0v3mQ1$',
  '$1$aB3dE6gH$',
  '$6$Xy9Q$',
  '$2b$12$',
  'gT8JXy0cbO1Hd2qK',
  '6f9a1c0e2b',
  'ab12cd34',
  'Cyber',
  'PHP-8_2',
];
const assertKeepsNothingElse = (logins: SourceLogin[]) => {
  const text = JSON.stringify(logins);
  for (const value of NOT_OURS) assert.ok(!text.includes(value), `${value} left the parser`);
};

describe('HestiaCP', () => {
  it('v-list-user json: TWOFA is the secret, every other field is dropped', () => {
    const logins = hestiaLogins(JSON.parse(fixture('hestia-v-list-user.json')));
    assert.deepEqual(logins, [{ userId: 'alice', ...secretOf('KRUGS4ZANFZSAYJAORSXG5BAONSWG4TF') }]);
    assertKeepsNothingElse(logins);
  });

  it('a loop over the users: objects one after another, braces and quotes inside strings; an empty TWOFA is not enrolled', () => {
    assert.deepEqual(hestiaLogins(fixture('hestia-loop.txt')), [
      { userId: 'bob', ...secretOf('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ') },
      { userId: 'carol', outcome: 'not_enrolled' },
    ]);
  });

  it('several users in one object; a source of another shape is refused, naming the expected one', () => {
    assert.deepEqual(hestiaLogins({ a: { TWOFA: 'X' }, b: {} }), [
      { userId: 'a', ...secretOf('X') },
      { userId: 'b', outcome: 'not_enrolled' },
    ]);
    for (const bad of [[], 'not json', '{"a": {', '{"a": 1}', 42, null, { a: 'TWOFA' }]) {
      assert.throws(
        () => hestiaLogins(bad),
        (e: Error) => e instanceof InvalidSource && /v-list-user/.test(e.message),
      );
    }
  });
});

describe('Webmin, Virtualmin, Usermin', () => {
  it('miniserv.users: the provider and the id of fields 12 and 13; never the password hash', () => {
    const logins = webminLogins(fixture('webmin-miniserv.users'));
    assert.deepEqual(logins, [
      { userId: 'root', ...secretOf('MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U') },
      { userId: 'webadmin', outcome: 'not_enrolled' },
      { userId: 'dave', outcome: 'unsupported' },
    ]);
    assertKeepsNothingElse(logins);
  });

  it('twofactor-users: user:provider:id[:apikey]', () => {
    const logins = webminLogins(fixture('webmin-twofactor-users'));
    assert.deepEqual(logins, [
      { userId: 'erin', ...secretOf('ONSWG4TFORSXG5BAMJ4XIZLTEBTG64TUPEQGE6LUMVZQ') },
      { userId: 'frank', outcome: 'unsupported' },
      { userId: 'grace', outcome: 'not_enrolled' },
    ]);
    assertKeepsNothingElse(logins);
  });

  it('a line of neither shape is refused by its number, and the message holds no part of it', () => {
    const hash = '$6$secretsalt$0123456789abcdef';
    assert.throws(
      () => webminLogins(`root:${hash}:0:x:y`),
      (e: Error) =>
        e instanceof InvalidSource && /line 1 has 5 fields/.test(e.message) && !e.message.includes(hash),
    );
    assert.throws(() => webminLogins({ root: 'x' }), InvalidSource);
    assert.throws(() => webminLogins('\n# only a comment\n'), /no user/);
  });
});

describe('CyberPanel', () => {
  it('mysql -B of a SELECT *: columns by name, the password column never read', () => {
    const logins = cyberpanelLogins(fixture('cyberpanel-select-all.tsv'));
    assert.deepEqual(logins, [
      {
        userId: 'admin',
        ...secretOf('NBSWY3DPO5XXE3DEEBQW42LNMFWCA3TPOQQGCZLTMVZQ', { accountName: 'admin@example.net' }),
      },
      { userId: 'reseller1', outcome: 'not_enrolled' },
      { userId: 'noemail', ...secretOf('MZXW6YTBOI======') },
    ]);
    assertKeepsNothingElse(logins);
  });

  it('rows as JSON: twoFA 1 with a secret is enrolled; 0, None or null are not', () => {
    assert.deepEqual(
      cyberpanelLogins([
        { userName: 'a', email: 'a@example.net', twoFA: 1, secretKey: 'JBSWY3DPEHPK3PXP' },
        { userName: 'b', email: 'b@example.net', twoFA: 0, secretKey: 'JBSWY3DPEHPK3PXP' },
        { userName: 'c', twoFA: 1, secretKey: 'None' },
        { userName: 'd', twoFA: 1, secretKey: null },
        { userName: 'e', twoFA: 1, secretKey: 12 },
      ]),
      [
        { userId: 'a', ...secretOf('JBSWY3DPEHPK3PXP', { accountName: 'a@example.net' }) },
        { userId: 'b', outcome: 'not_enrolled' },
        { userId: 'c', outcome: 'not_enrolled' },
        { userId: 'd', outcome: 'not_enrolled' },
        // Not a string: the pipeline refuses it as invalid_secret, as any malformed secret.
        { userId: 'e', ...secretOf(12 as unknown as string) },
      ],
    );
  });

  it('a table without the columns, a row of another width, or rows without userName are refused', () => {
    assert.throws(() => cyberpanelLogins('id\tname\n1\tx'), /userName, twoFA and secretKey/);
    assert.throws(() => cyberpanelLogins('userName\ttwoFA\tsecretKey\nx\t1'), /row 1 has 2 columns/);
    assert.throws(() => cyberpanelLogins([{ email: 'x' }]), /row 1 has no userName/);
    assert.throws(() => cyberpanelLogins({ userName: 'x' }), InvalidSource);
  });
});

describe('otpauth lists', () => {
  it('Key URI lines, <userId>,<URI> and <userId>,<secret>[,<algorithm>,<digits>,<period>]', () => {
    assert.deepEqual(otpauthLogins(fixture('otpauth-list.txt')), [
      {
        userId: 'harry',
        ...secretOf('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', { issuer: 'Example Hosting', accountName: 'harry' }),
      },
      {
        userId: 'ivy@example.net',
        secret: 'KVKFKRCPNZQUYMLXOVYDSQKJKZDTSRLD',
        parameters: { algorithm: 'SHA256', digits: 8, period: 60 },
        accountName: 'ivy@example.net',
      },
      {
        userId: 'jack',
        ...secretOf('MFZWIZLTMVZHI2LOM5SXG5DJNZTQ', { issuer: 'Plesk', accountName: 'jack' }),
      },
      { userId: 'kim', ...secretOf('ORUGS4ZANFZSAYJAONSWG4TFOQQGW4TZ') },
      {
        userId: 'lee',
        secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBV',
        parameters: { algorithm: 'SHA512', digits: 8, period: 30 },
      },
      { userId: 'mia', outcome: 'invalid_parameters' },
      { userId: 'ned', outcome: 'invalid_parameters' },
      { userId: 'olga', outcome: 'unsupported' },
    ]);
  });

  it('a URI’s own parameters outside the settings are invalid_parameters; a line of no shape is refused', () => {
    assert.deepEqual(otpauthLogins('otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=7'), [
      { userId: 'x', outcome: 'invalid_parameters' },
    ]);
    assert.throws(() => otpauthLogins('just a line'), /line 1 is neither/);
    assert.throws(() => otpauthLogins('bob,otpauth://sms/x'), /not otpauth:\/\/totp/);
    assert.throws(() => otpauthLogins(['x']), InvalidSource);
  });
});

describe('every parser, fuzzed', () => {
  const parsers = { hestiaLogins, webminLogins, cyberpanelLogins, otpauthLogins };
  for (const [name, parse] of Object.entries(parsers)) {
    it(`${name}: any string or JSON value gives logins or InvalidSource, never another error`, () => {
      const lines = fc.array(
        fc.oneof(
          fc.string(),
          fc.constantFrom(
            'otpauth://totp/a?secret=X',
            'userName\ttwoFA\tsecretKey',
            'a:totp:X',
            '{"a":{"TWOFA":"X"}}',
          ),
          fc
            .array(fc.constantFrom(':', '\t', ',', '{', '}', '"', '\\', 'a', '1'), { maxLength: 20 })
            .map((a) => a.join('')),
        ),
        { maxLength: 8 },
      );
      fc.assert(
        fc.property(
          fc.oneof(
            fc.jsonValue(),
            lines.map((l) => l.join('\n')),
          ),
          (source) => {
            try {
              const logins = parse(source);
              assert.ok(Array.isArray(logins));
              for (const login of logins) assert.equal(typeof login.userId, 'string');
            } catch (error) {
              assert.ok(error instanceof InvalidSource, `${name}: ${(error as Error).stack}`);
            }
          },
        ),
        { numRuns: 400 },
      );
    });
  }
});

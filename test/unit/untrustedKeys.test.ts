import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readReport, readUserIds } from '../../cli/bulkRemove.ts';
import { cpanelChunks } from '../../client/cpanelChunks.ts';
import { cpanelLogins } from '../../lib/domain/cpanel.ts';
import { applySettingsPatch, defaultSettings } from '../../lib/domain/settings.ts';
import * as inputs from '../../lib/http/inputs.ts';

/**
 * Every parser of untrusted input is fed `__proto__`, `constructor` and `prototype`
 * keys, at every depth its input has: it must treat them as data or refuse them, and
 * never change a prototype. (The CLI's poisoned export is mounted end to end in
 * test/cli/untrustedFiles.test.ts; the lint rule that refuses `in` is shown biting in
 * test/static/layers.test.ts.)
 */

const NAMES = ['__proto__', 'constructor', 'prototype'];
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** Object.prototype's own names and values, to see that nothing wrote to it. */
const snapshot = () =>
  Object.getOwnPropertyNames(Object.prototype).map((name) => [
    name,
    Object.getOwnPropertyDescriptor(Object.prototype, name),
  ]);
const before = snapshot();
const assertPristine = (what: string) => {
  assert.deepEqual(snapshot(), before, `${what} changed Object.prototype`);
  assert.equal(({} as Record<string, unknown>).url, undefined, what);
  assert.equal(Object.getPrototypeOf({}), Object.prototype, what);
};

/** JSON texts that put each name at each depth of a cPanel export (JSON.parse makes them own keys). */
function cpanelTexts(): string[] {
  const texts: string[] = [];
  for (const name of NAMES) {
    const poison = `{"url": "http://attacker.example", "secret": "${SECRET}", "email": {}}`;
    texts.push(
      `{"${name}": ${poison}}`,
      `{"${name}": {"secret": "${SECRET}"}, "alice": {"secret": "${SECRET}"}}`,
      `{"data": {"${name}": {"primary_account": {"secret": "${SECRET}"}, "email": {"${name}": ${poison}}}}, "metadata": {}}`,
      `{"acct": {"team": {"${name}": ${poison}}, "${name}": ${poison}}}`,
      `{"acct": {"email": {"${name}": {"secret": "${SECRET}"}}}, "acct2": {"email": {"${name}": {"url": 1}}}}`,
      `{"${name}": {"data": {"${name}": {}}}, "metadata": {"${name}": {}}}`,
    );
  }
  return texts;
}

describe('parsers of untrusted input and prototype keys', () => {
  it('the cPanel export, split by the CLI and read by the service, keeps every such login as data', () => {
    for (const text of cpanelTexts()) {
      const source = JSON.parse(text);
      const direct = cpanelLogins(source).map((l) => l.login);
      const chunked = cpanelChunks(source).flatMap((chunk) => cpanelLogins(chunk).map((l) => l.login));
      assertPristine(text);
      assert.deepEqual(chunked, direct, text);
      // A login named after a prototype key is listed under its own name.
      for (const name of NAMES) {
        if (text.includes(`{"${name}": {"secret"`)) assert.ok(direct.includes(name), `${name} in ${text}`);
      }
    }
  });

  it('the request bodies: fields are read as own properties only', () => {
    for (const name of NAMES) {
      const body = JSON.parse(`{"${name}": {"code": "123456", "name": "k", "scopes": ["admin"]}}`);
      assert.throws(() => inputs.codeBody(body), /code is required/);
      assert.throws(() => inputs.keyBody(body), /name is required/);
      assert.throws(() => inputs.tenantBody(body), /tenantId is required/);
      assert.throws(() => inputs.deletionBody(body), /reason is required/);
      assert.throws(() => inputs.importBody(body), /source is required/);
      assert.deepEqual(inputs.setupBody(body), {
        accountName: undefined,
        label: undefined,
        reconfigure: false,
        add: false,
        replace: undefined,
      });
      assert.throws(() => inputs.verifyBody(body), /code is required/);
      assert.throws(() => inputs.labelBody(body), /label is required/);
      const imported = inputs.importRequest(
        'cpanel',
        inputs.importBody(JSON.parse(`{"source": {"${name}": {"secret": "${SECRET}"}}}`)),
      );
      assert.deepEqual(
        imported.logins.map((l) => l.userId),
        [name],
      );
      assertPristine(name);
    }
    // A body whose prototype was polluted still reads no inherited field.
    const inherited = Object.create({ code: '123456', source: {} });
    assert.throws(() => inputs.codeBody(inherited), /code is required/);
    assert.throws(() => inputs.importBody(inherited), /source is required/);
  });

  it('a settings change naming a prototype key is refused as no setting, and changes nothing', () => {
    for (const name of NAMES) {
      for (const text of [`{"${name}": {"issuer": "x"}}`, `{"totp": {"${name}": {"digits": 8}}}`]) {
        const result = applySettingsPatch(defaultSettings('Acme'), JSON.parse(text));
        assert.equal(result.ok, false, text);
        assertPristine(text);
      }
    }
  });

  it('the CLI reading user lists and reports: the header and ids are data', () => {
    for (const name of NAMES) {
      assert.deepEqual(readUserIds(`userId\n${name}\nalice\n`), [name, 'alice']);
      assert.deepEqual(readUserIds(`${name},userId\nx,bob\n`), ['bob']);
      const report = readReport(`userId,outcome,message\n${name},removed,\n`);
      assert.equal(report.get(name), 'removed');
      assertPristine(name);
    }
  });
});

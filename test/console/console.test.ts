import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../lib/local/service.ts';
import { codeFor, freshStep } from '../support/otp.ts';
import { startTestService } from '../support/service.ts';

// Callbacks of page.evaluate() run in the page: they reach its globals through
// globalThis, since this file is type-checked for Node.js.

/**
 * The console in Debian's Chromium, driven by playwright-core, against the real
 * local service: a whole enrolment with the code computed from the key the page
 * shows, the user disabled from Manage Users, the audit of it, and an axe-core check
 * and a screenshot (test-artifacts/, not committed) of every tab.
 */

const CHROMIUM = process.env.TFA_CHROMIUM ?? '/usr/bin/chromium';
// What a closed network needs: no background calls home, no QUIC, no sandbox as root.
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const service = await startTestService();
const { client, operatorKey } = service;
let browser: Browser;
let page: Page;
let admin: string;
const consoleErrors: string[] = [];

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  admin = await client.tenant(operatorKey, 'console-host', 'Console Hosting');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: FLAGS,
    headless: true,
    env: { ...process.env, HOME: mkdtempSync(join(tmpdir(), 'tfa-chromium-')) },
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
});
after(() => browser?.close());

const tab = (name: string) => page.getByRole('tab', { name, exact: true });

/** axe-core on the page as it is: no serious or critical violation. */
async function accessible(name: string) {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await (globalThis as any).axe.run((globalThis as any).document, {
      resultTypes: ['violations'],
    });
    return result.violations
      .filter((v: any) => v.impact === 'serious' || v.impact === 'critical')
      .map((v: any) => `${v.id}: ${v.help} (${v.nodes.map((n: any) => n.target).join(' ')})`);
  });
  assert.deepEqual(violations, [], `${name}: ${violations.join('\n')}`);
  await page.screenshot({
    path: join(ARTIFACTS, `console-${name.toLowerCase().replaceAll(' ', '-')}.png`),
    fullPage: true,
  });
}

describe('the console', () => {
  it('is served at /console under a strict policy, with no inline script', async () => {
    const response = await page.goto(`${service.url}/console`);
    assert.equal(response?.status(), 200);
    const headers = response?.headers() ?? {};
    assert.match(
      headers['content-security-policy'] ?? '',
      /default-src 'none'; script-src 'self'; .*frame-ancestors 'none'/,
    );
    assert.ok(headers['x-request-id']);
    const html = await response?.text();
    assert.doesNotMatch(html ?? '', /<script(?![^>]*\ssrc=)[^>]*>/, 'every script is a file');
    assert.doesNotMatch(html ?? '', /\son\w+=/, 'no inline handlers');
    await accessible('Sign in');
  });

  it('signs in with a pasted key, kept in session storage only', async () => {
    await page.getByLabel('API key').fill('tfa.console-host.nope.nope');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /not valid/);
    await page.getByLabel('API key').fill(admin);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await tab('Settings').waitFor();
    assert.equal(
      await page.evaluate(() => (globalThis as any).sessionStorage.getItem('tfa.console.key')),
      admin,
    );
    assert.equal(await page.evaluate(() => (globalThis as any).localStorage.length), 0);
    assert.ok(!(await page.evaluate(() => (globalThis as any).document.cookie)).includes('tfa'));
  });

  it('Settings: saves the issuer, shows WHM’s message when the policy is off, and the API’s message by its field', async () => {
    await tab('Settings').click();
    await page.getByLabel('Issuer').waitFor();
    await accessible('Settings');
    await page.getByLabel('Issuer').fill('Console: Hosting');
    await page.getByRole('button', { name: 'Save' }).click();
    const issuerError = page.locator(`#${await page.getByLabel('Issuer').getAttribute('id')}-error`);
    await issuerError.filter({ hasText: /issuer must be/ }).waitFor();
    assert.equal(await page.getByLabel('Issuer').getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Issuer').fill('Console Hosting EU');
    await page.getByLabel('Policy').selectOption('disabled');
    await page.getByText('The two-factor authentication security policy is disabled.').waitFor();
    await page.getByLabel('Policy').selectOption('enabled');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Settings saved.').waitFor();
    assert.equal((await client.typed(admin).settings.get()).issuer, 'Console Hosting EU');
  });

  it('Manage My Account: a whole enrolment, with the code computed from the key on the page', async () => {
    await tab('Manage My Account').click();
    await page.getByLabel('User').fill('alice');
    await freshStep();
    await page.getByRole('button', { name: 'Configure Two-Factor Authentication' }).click();
    const keyText = await page.getByTestId('key').innerText();
    assert.match(keyText, /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/, 'the key in groups of four');
    const secret = keyText.replaceAll(' ', '');
    assert.ok(await page.getByRole('img', { name: /QR code/ }).isVisible());
    await accessible('Manage My Account');

    await page.getByLabel('Security Code').fill('000000');
    await page.getByRole('button', { name: 'Configure Two-Factor Authentication' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /not valid/ })
      .waitFor();
    await page
      .getByLabel('Security Code')
      .fill(codeFor({ secret, algorithm: 'SHA1', digits: 6, period: 30 }));
    await page.getByRole('button', { name: 'Configure Two-Factor Authentication' }).click();
    const codes = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
    await codes.first().waitFor();
    assert.equal(await codes.count(), 10);
    assert.ok(await page.getByRole('button', { name: 'Copy' }).isVisible());
    assert.ok(await page.getByRole('link', { name: 'Download' }).isVisible());
    // Once confirmed, neither the key nor the QR code is in the page.
    const html = await page.content();
    assert.ok(!html.includes(secret) && !html.includes(keyText), 'the key is gone');
    assert.equal(await page.getByRole('img', { name: /QR code/ }).count(), 0);
    assert.equal((await client.typed(admin).users.status('alice')).enabled, true);

    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Reconfigure Two-Factor Authentication' }).waitFor();
    assert.ok(await page.getByRole('button', { name: 'Remove Two-Factor Authentication' }).isVisible());
  });

  it('Manage Users: finds the user, and disables 2FA with a reason', async () => {
    await client.typed(admin).users.setup('bob');
    await tab('Manage Users').click();
    const row = page.getByRole('row', { name: /alice/ });
    await row.waitFor();
    assert.match(await row.innerText(), /Enabled/);
    assert.match(await page.getByRole('row', { name: /bob/ }).innerText(), /setup pending/);
    await accessible('Manage Users');
    await row.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Give a reason').waitFor();
    await page.getByLabel('Reason').fill('lost phone, ticket 4711');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Two-factor authentication disabled for alice.').waitFor();
    assert.equal((await client.typed(admin).users.status('alice')).enabled, false);
    assert.equal(await page.getByRole('row', { name: /alice/ }).count(), 0);
  });

  it('Audit: the user’s history, newest first, shows the removal and its reason', async () => {
    await tab('Audit').click();
    await page.getByLabel('User').fill('alice');
    await page.getByRole('button', { name: 'Show' }).click();
    const rows = page.getByRole('row');
    await rows.nth(1).waitFor();
    const first = await rows.nth(1).innerText();
    assert.match(first, /remove/);
    assert.match(first, /lost phone, ticket 4711/);
    assert.match(await rows.last().innerText(), /setup/);
    await accessible('Audit');
  });

  it('works from the keyboard: arrows move between tabs', async () => {
    await tab('Audit').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await tab('Settings').getAttribute('aria-selected'), 'true');
    await page.keyboard.press('End');
    assert.equal(await tab('Audit').getAttribute('aria-selected'), 'true');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await tab('Manage My Account').getAttribute('aria-selected'), 'true');
    await page.keyboard.press('Tab');
    assert.equal(
      await page.evaluate(() => (globalThis as any).document.activeElement?.getAttribute('role')),
      'tabpanel',
    );
  });

  it('Sign out clears the key', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    assert.equal(await page.evaluate(() => (globalThis as any).sessionStorage.length), 0);
    assert.deepEqual(
      consoleErrors.filter((e) => !/401|422|400/.test(e)),
      [],
      'no script error, no CSP refusal',
    );
  });
});

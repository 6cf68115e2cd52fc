import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { PROJECT_ROOT } from '../../lib/local/service.ts';
import { codeFor, freshStep } from '../support/otp.ts';
import { startTestService } from '../support/service.ts';
import { movableClock } from '../support/clock.ts';
import { assertAccepted, enrol, tenantWith } from '../support/users.ts';

// Callbacks of page.evaluate() run in the page: they reach its globals through
// globalThis, since this file is type-checked for Node.js.

/**
 * The console in Debian's Chromium, driven by playwright-core, against the real
 * local service and a tenant with users in every state (enrolled, pending, locked,
 * disabled after 100 failures, imported with a weak secret, registered, due, overdue,
 * exempt): a whole enrolment with the code computed from the key the page shows, each
 * row offering only what fits its state, the enrolment requirement and its counts,
 * Register users, the Show filter down to exactly the overdue users, the audit, the tabs a key's scopes allow, an axe-core check of every
 * tab, and the screenshots of docs/ (at 1280 and 420 px wide, so they cannot go stale).
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
const SCREENSHOTS = join(PROJECT_ROOT, 'docs');
const WIDE = { width: 1280, height: 900 };
const NARROW = { width: 420, height: 900 };
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// A receiver on this machine for the Webhooks tab: local mode allows loopback endpoints only so.
process.env.TFA_WEBHOOK_ALLOW_LOOPBACK = '1';
process.env.TFA_SCHEDULE_MS = '200';
const received: { headers: Record<string, string>; body: string }[] = [];
const receiver = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    received.push({ headers: request.headers as Record<string, string>, body });
    response.writeHead(204).end();
  });
});
receiver.listen(0, '127.0.0.1');
await once(receiver, 'listening');
after(() => {
  receiver.closeAllConnections();
  receiver.close();
});
const receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
const service = await startTestService();
const { client, operatorKey } = service;
let browser: Browser;
let page: Page;
let admin: string;
let support: string;
let panel: string;
const consoleErrors: string[] = [];
const clock = movableClock();
/** The tenant's enrolment deadline, set in Settings: a day well ahead. */
const DEADLINE_DAY = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);

before(async () => {
  const keys = await tenantWith(client, operatorKey, 'console-host', {
    issuer: 'Console Hosting',
    lockout: { maxFailures: 4, lockSeconds: 600 },
  });
  ({ admin, support, users: panel } = keys);
  const users = client.typed(panel).users;
  await users.setup('bob');
  for (const id of ['dora', 'lena', 'olga']) await enrol(client, panel, id);
  await client.typed(admin).importLogins('cpanel', { source: { wendy: { secret: 'JBSWY3DPEHPK3PXP' } } });
  // dora: 100 failed codes, four at a time, each lock waited out on the service's clock.
  for (let round = 0; round < 25; round++) {
    for (let i = 0; i < 4; i++) await users.verify('dora', '000000');
    clock.advance(601_000);
  }
  clock.setTo(Date.now());
  for (let i = 0; i < 4; i++) await users.verify('lena', '000000');
  // Registered and not enrolled: pia's own date has passed, ravi's tenant rule has not
  // (once Settings requires enrolment), sam is exempt.
  await users.register('pia', { dueAt: '2026-01-01T00:00:00Z' });
  await users.register('ravi');
  await users.register('sam', { exempt: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: FLAGS,
    headless: true,
    env: { ...process.env, HOME: mkdtempSync(join(tmpdir(), 'tfa-chromium-')) },
  });
  page = await browser.newPage({ viewport: WIDE });
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
  const file = `console-${name.toLowerCase().replaceAll(' ', '-')}`;
  await page.screenshot({ path: join(SCREENSHOTS, `${file}.png`), fullPage: true });
  await page.setViewportSize(NARROW);
  await page.screenshot({ path: join(SCREENSHOTS, `${file}-narrow.png`), fullPage: true });
  await page.setViewportSize(WIDE);
}

/** Each cell of `cells` (a user row's, or an audit date: a reason may wrap) lays its text out on one line at 1280 px. */
async function oneLineRows(cells = 'table.users tbody tr:not(.row-form) > :not(:last-child)') {
  const lines = await page.locator(cells).evaluateAll((all) =>
    all.map((cell) => {
      const range = (globalThis as any).document.createRange();
      range.selectNodeContents(cell);
      const tops = new Set([...range.getClientRects()].map((r: any) => Math.round(r.top)));
      return tops.size;
    }),
  );
  assert.ok(lines.length > 0);
  assert.ok(Math.max(...lines) <= 1, `lines per cell: ${lines}`);
}

/** The names of the actions a user's row offers. */
async function actionsOf(userId: string) {
  return page
    .getByRole('row', { name: new RegExp(`^${userId}\\b`) })
    .getByRole('button')
    .allInnerTexts();
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

  it('signs in with a pasted key, kept in session storage only; a wrong key is told what to do', async () => {
    await page.getByLabel('API key').fill('tfa.console-host.nope.nope');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    const said = await page.getByRole('alert').innerText();
    assert.match(said, /not valid: check that it was pasted whole/);
    assert.doesNotMatch(said, /Sign out/, 'there is no Sign out on this page');
    await page.getByLabel('API key').fill(admin);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await tab('Settings').waitFor();
    assert.deepEqual(await page.getByRole('tab').allInnerTexts(), [
      'Settings',
      'Manage Users',
      'Manage My Account',
      'Import',
      'Webhooks',
      'Audit',
    ]);
    assert.equal(
      await page.evaluate(() => (globalThis as any).sessionStorage.getItem('tfa.console.key')),
      admin,
    );
    assert.equal(await page.evaluate(() => (globalThis as any).localStorage.length), 0);
    assert.ok(!(await page.evaluate(() => (globalThis as any).document.cookie)).includes('tfa'));
  });

  it('Settings: what the service holds, no stale Loading; messages in the field’s words', async () => {
    await tab('Settings').click();
    await page.getByLabel('Issuer').waitFor();
    assert.equal(await page.getByText('Loading…').count(), 0, 'Loading… is gone once loaded');
    assert.equal(await page.getByLabel('Issuer').inputValue(), 'Console Hosting');
    assert.equal(await page.getByLabel('Lock (seconds)').inputValue(), '600');
    await accessible('Settings');
    await page.getByLabel('Issuer').fill('Console: Hosting');
    await page.getByRole('button', { name: 'Save' }).click();
    const errorOf = async (label: string) =>
      page.locator(`#${await page.getByLabel(label).getAttribute('id')}-error`);
    await (await errorOf('Issuer')).filter({ hasText: /^Issuer must be/ }).waitFor();
    assert.equal(await page.getByLabel('Issuer').getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Issuer').fill('Console Hosting EU');
    await page.getByLabel('Lock (seconds)').fill('0');
    await page.getByRole('button', { name: 'Save' }).click();
    await (
      await errorOf('Lock (seconds)')
    )
      .filter({ hasText: /^Lock \(seconds\) must be a whole number from 1 to 86400$/ })
      .waitFor();
    await page.getByLabel('Lock (seconds)').fill('600');
    await page.getByLabel('Policy').selectOption('disabled');
    await page.getByText('The two-factor authentication security policy is disabled.').waitFor();
    await page.getByLabel('Policy').selectOption('enabled');

    // The enrolment requirement: the service's defaults shown, a range told in words.
    assert.equal(await page.getByLabel('Require enrolment').isChecked(), false);
    assert.equal(await page.getByLabel('Deadline').inputValue(), '');
    assert.equal(await page.getByLabel('Grace days').inputValue(), '14');
    await page.getByLabel('Require enrolment').check();
    await page.getByLabel('Deadline').fill(DEADLINE_DAY);
    await page.getByLabel('Grace days').fill('400');
    await page.getByRole('button', { name: 'Save' }).click();
    await (
      await errorOf('Grace days')
    )
      .filter({ hasText: /^Grace days must be a whole number from 0 to 365$/ })
      .waitFor();
    await page.getByLabel('Grace days').fill('7');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Settings saved.').waitFor();
    const saved = await client.typed(admin).settings.get();
    assert.equal(saved.issuer, 'Console Hosting EU');
    assert.deepEqual(saved.enrolment, {
      required: true,
      deadline: `${DEADLINE_DAY}T00:00:00.000Z`,
      graceDays: 7,
    });
    // Opened again, it shows what the service holds.
    await tab('Manage My Account').click();
    await tab('Settings').click();
    await page.getByLabel('Issuer').waitFor();
    assert.equal(await page.getByLabel('Require enrolment').isChecked(), true);
    assert.equal(await page.getByLabel('Deadline').inputValue(), DEADLINE_DAY);
    assert.equal(await page.getByLabel('Grace days').inputValue(), '7');
  });

  it('Manage My Account: looking a user up shows its state first, and starts nothing', async () => {
    await tab('Manage My Account').click();
    const lookUp = async (userId: string) => {
      await page.getByLabel('User').fill(userId);
      await page.getByRole('button', { name: 'Look Up' }).click();
      return page.locator('section p').filter({ hasText: userId }).first().innerText();
    };
    assert.match(await lookUp('dora'), /disabled after 100 failed codes/);
    assert.match(await lookUp('lena'), /enabled for lena, but lena is locked out until/);
    assert.match(await lookUp('wendy'), /enabled for wendy\./);
    await page.getByText('Its key is shorter than 128 bits (imported): reconfigure it.').waitFor();
    assert.match(await lookUp('carl'), /not configured for carl/);
    // Enter in the User field looks up too.
    await page.getByLabel('User').fill('olga');
    await page.getByLabel('User').press('Enter');
    await page.getByText('Two-factor authentication is enabled for olga.').waitFor();
    for (const id of ['dora', 'lena', 'wendy', 'carl', 'olga']) {
      assert.equal((await client.typed(support).users.status(id)).pending, false, `${id}: no setup started`);
    }
    assert.equal(await page.getByRole('img', { name: /QR code/ }).count(), 0);
  });

  it('Manage My Account: a whole enrolment, with the code computed from the key on the page', async () => {
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

  it('Manage My Account: Add Another Authenticator enrols a second; Rename and Remove act on one', async () => {
    // alice, enrolled above, is on the page with her one authenticator.
    const rows = page.getByRole('table', { name: 'Authenticators' }).getByRole('row');
    await page.getByRole('rowheader', { name: 'Authenticator 1' }).waitFor();
    await freshStep();
    await page.getByRole('button', { name: 'Add Another Authenticator' }).click();
    const keyText = await page.getByTestId('key').innerText();
    const secret = keyText.replaceAll(' ', '');
    await page
      .getByLabel('Security Code')
      .fill(codeFor({ secret, algorithm: 'SHA1', digits: 6, period: 30 }));
    await page.getByRole('button', { name: 'Configure Two-Factor Authentication' }).click();
    await page.getByRole('rowheader', { name: 'Authenticator 2' }).waitFor();
    assert.equal(await rows.count(), 3, 'a header row and two authenticators');
    const html = await page.content();
    assert.ok(!html.includes(secret) && !html.includes(keyText), 'the new key is gone once confirmed');
    assert.equal(await page.getByRole('img', { name: /QR code/ }).count(), 0);
    assert.equal((await client.typed(admin).users.status('alice')).recoveryCodesRemaining, 10, 'codes kept');
    await accessible('Manage My Account');

    await page.getByRole('button', { name: 'Rename Authenticator 2' }).click();
    await page.getByLabel('Label').fill('Backup phone');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('rowheader', { name: 'Backup phone' }).waitFor();

    await page.getByRole('button', { name: 'Remove Authenticator 1' }).click();
    await page.getByText('the other authenticators and the recovery codes stay').waitFor();
    await page.getByLabel('Reason').fill('lost phone');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForFunction(
      () => (globalThis as any).document.querySelectorAll('table.authenticators tbody tr').length === 1,
    );
    const left = await client.typed(admin).users.status('alice');
    assert.deepEqual(
      left.authenticators.map((a) => a.label),
      ['Backup phone'],
    );
    const removal = (await client.typed(admin).audit({ userId: 'alice' })).events[0];
    assert.deepEqual([removal?.action, removal?.reason], ['authenticator_remove', 'lost phone']);
  });

  it('Manage Users: each row offers only what fits its state, on one line, in one call a page', async () => {
    service.storeProxy.clear();
    await tab('Manage Users').click();
    await page.getByRole('row', { name: /^wendy\b/ }).waitFor();
    const text = async (userId: string) =>
      page.getByRole('row', { name: new RegExp(`^${userId}\\b`) }).innerText();
    // Status, authenticators, due date, lock.
    assert.match(await text('alice'), /Enabled\s+1\s+—\s+Not locked/);
    assert.match(await text('bob'), /Setup pending\s+0\s+—/);
    assert.match(await text('dora'), /Disabled after 100 failed codes\s+\d+\s+—/);
    assert.match(await text('lena'), /Enabled\s+1\s+—\s+Locked until/);
    assert.match(await text('wendy'), /Enabled, weak imported key/);
    assert.match(await text('pia'), /Not enrolled, overdue\s+0\s+\S.*2026\s+Not locked/);
    assert.match(await text('ravi'), /Not enrolled, due\s+0\s+\S/);
    assert.match(await text('sam'), /Exempt\s+0\s+—/);
    assert.deepEqual(await actionsOf('alice'), ['Disable']);
    assert.deepEqual(await actionsOf('bob'), ['Disable']);
    assert.deepEqual(await actionsOf('dora'), ['Disable'], 'no Unlock that changes nothing');
    assert.deepEqual(await actionsOf('lena'), ['Unlock', 'Disable']);
    for (const id of ['pia', 'ravi', 'sam'])
      assert.deepEqual(await actionsOf(id), [], `${id}: nothing to remove`);
    // The page's statuses came with the list: no read per user.
    const reads = service.storeProxy.seen.filter((r) => r.target.endsWith('GetItem')).length;
    assert.ok(reads <= 6, `${reads} item reads for the page and the counts`);
    await oneLineRows();
    await accessible('Manage Users');

    const onlyRow = (userId: string) =>
      page.waitForFunction((id) => {
        const rows = (globalThis as any).document.querySelectorAll('table.users tbody tr');
        return rows.length === 1 && rows[0].querySelector('th')?.textContent === id;
      }, userId);
    await page.getByLabel('Show').selectOption('locked');
    await onlyRow('lena');
    await page.getByLabel('Show').selectOption('disabled');
    await onlyRow('dora');
    await page.getByLabel('Show').selectOption({ label: 'Exempt' });
    await onlyRow('sam');
    await page.getByLabel('Show').selectOption('');
    await page.getByLabel('Find user').fill('lena');
    await page.getByRole('button', { name: 'Find' }).click();
    await onlyRow('lena');

    await page
      .getByRole('row', { name: /^lena\b/ })
      .getByRole('button', { name: 'Unlock' })
      .click();
    await page
      .getByRole('row', { name: /^lena\b/ })
      .getByText('Unlocked lena.')
      .waitFor();
    assert.deepEqual(await actionsOf('lena'), ['Disable']);
    assert.equal((await client.typed(support).users.status('lena')).lockedUntil, null);
  });

  it('Manage Users: the enrolment counts; Register users; Show Overdue is exactly the overdue users', async () => {
    await page.getByRole('button', { name: 'First page' }).click();
    const count = async (name: string) =>
      page
        .locator('dl.counts > div')
        .filter({ has: page.locator('dt', { hasText: new RegExp(`^${name}$`) }) })
        .locator('dd')
        .innerText();
    await page.locator('dl.counts dd').first().waitFor();
    const report = await client.typed(support).enrolment.report();
    for (const [name, field] of [
      ['Registered', 'registered'],
      ['Enrolled', 'enrolled'],
      ['Not enrolled', 'unenrolled'],
      ['Due', 'due'],
      ['Overdue', 'overdue'],
      ['Exempt', 'exempt'],
    ] as const) {
      assert.equal(await count(name), String(report.counts[field]), name);
    }
    assert.equal(report.counts.overdue, 1, 'pia');

    // Two overdue by the date given to them, a repeat and a blank line skipped, one refused.
    await page.getByRole('button', { name: 'Register users' }).click();
    await page.getByLabel('User ids, one a line').fill('tess\n\numa\ntess\nno such/user\n');
    await page.getByLabel('Own due date (optional)').fill('2026-02-01');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    const outcome = page.getByRole('alert').filter({ hasText: 'Registered 2 of 3 users.' });
    await outcome.waitFor();
    assert.match(await outcome.innerText(), /Refused: no such\/user: /);
    assert.equal(
      await page.getByLabel('User ids, one a line').inputValue(),
      'no such/user',
      'the refused id stays',
    );
    await page.waitForFunction(() =>
      [...(globalThis as any).document.querySelectorAll('dl.counts > div')].some(
        (d: any) =>
          d.querySelector('dt').textContent === 'Overdue' && d.querySelector('dd').textContent === '3',
      ),
    );
    await accessible('Manage Users Enrolment');
    await page.getByRole('button', { name: 'Close' }).click();

    await page.getByLabel('Show').selectOption({ label: 'Overdue' });
    await page.waitForFunction(() => {
      const ids = [...(globalThis as any).document.querySelectorAll('table.users tbody th')].map(
        (th: any) => th.textContent,
      );
      return ids.join() === 'pia,tess,uma';
    });
    let overdue: string[] = [];
    for (let cursor: string | undefined; ;) {
      const page_ = await client
        .typed(support)
        .users.list({ status: 'overdue', ...(cursor ? { cursor } : {}) });
      overdue = overdue.concat(page_.users.map((u) => u.userId));
      if (!page_.nextCursor) break;
      cursor = page_.nextCursor;
    }
    assert.deepEqual(overdue, ['pia', 'tess', 'uma'], 'the console shows what the API lists');
    for (const id of overdue)
      assert.match(await page.getByRole('row', { name: new RegExp(`^${id}\\b`) }).innerText(), /overdue/);
    await page.getByLabel('Show').selectOption({ label: 'Due' });
    await page.waitForFunction(() =>
      [...(globalThis as any).document.querySelectorAll('table.users tbody th')].some(
        (th: any) => th.textContent === 'ravi',
      ),
    );
    await page.getByLabel('Show').selectOption({ label: 'All' });
    await page.getByRole('row', { name: /^wendy\b/ }).waitFor();
  });

  it('Manage Users: Disable asks for a reason under the row, and says what it does to that user', async () => {
    // The test before left all users shown, on their first page.
    await page.getByRole('row', { name: /^alice\b/ }).waitFor();
    await page
      .getByRole('row', { name: /^bob\b/ })
      .getByRole('button', { name: 'Disable' })
      .click();
    const form = page.getByRole('form', { name: 'Disable two-factor authentication for bob' });
    assert.match(await form.innerText(), /The pending setup is cancelled\. bob never completed it/);
    await form.getByRole('button', { name: 'Cancel' }).click();

    await page
      .getByRole('row', { name: /^alice\b/ })
      .getByRole('button', { name: 'Disable' })
      .click();
    const aliceForm = page.getByRole('form', { name: 'Disable two-factor authentication for alice' });
    assert.match(await aliceForm.innerText(), /alice signs in with the password alone/);
    // The form is the row right under alice's.
    assert.equal(
      await page
        .getByRole('row', { name: /^alice\b/ })
        .evaluate((row) => (row as any).nextElementSibling?.className),
      'row-form',
    );
    await aliceForm.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Give a reason').waitFor();
    await page.getByLabel('Reason').fill('lost phone, ticket 4711');
    await aliceForm.getByRole('button', { name: 'Confirm' }).click();
    await page
      .getByRole('row', { name: /^alice\b/ })
      .getByText('Two-factor authentication disabled for alice.')
      .waitFor();
    assert.equal((await client.typed(admin).users.status('alice')).enabled, false);
    assert.deepEqual(await actionsOf('alice'), [], 'nothing left to disable');
    // alice, registered by her enrolment, is now due under the tenant's rule.
    assert.match(await page.getByRole('row', { name: /^alice\b/ }).innerText(), /Not enrolled, due\s+0\s+\S/);
  });

  it('Webhooks: Add Endpoint shows the secret once; Send Test arrives signed with it; Pause, Rotate Secret, Delete', async () => {
    await tab('Webhooks').click();
    await page.getByText('No endpoints yet').waitFor();
    await page.getByRole('button', { name: 'Add Endpoint' }).click();
    await page.getByLabel('URL').fill('https://10.0.0.1/hooks');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText(/resolves to a private address/).waitFor();
    assert.equal(await page.getByLabel('URL').getAttribute('aria-invalid'), 'true');
    await page.getByLabel('URL').fill(receiverUrl);
    assert.deepEqual(
      await page.getByLabel('Events').evaluate((s: any) => [...s.selectedOptions].map((o: any) => o.value)),
      ['*'],
    );
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const secret = await page.getByTestId('webhook-secret').innerText();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const row = page.getByRole('row', { name: new RegExp(`^${receiverUrl.replaceAll('.', '\\.')}`) });
    await row.waitFor();
    assert.match(await row.innerText(), /All events\s+active/);
    assert.deepEqual(await row.getByRole('button').allInnerTexts(), [
      'Send Test',
      'Rotate Secret',
      'Pause',
      'Delete',
      'Deliveries',
    ]);
    await accessible('Webhooks');

    await row.getByRole('button', { name: 'Send Test' }).click();
    await row.getByText(/Test queued/).waitFor();
    const until = Date.now() + 15_000;
    while (received.length === 0 && Date.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const [got] = received;
    assert.ok(got, 'the test event arrived');
    assert.equal((new Webhook(secret).verify(got.body, got.headers) as any).type, 'tfa.webhook.test');
    for (let tries = 0; tries < 50; tries++) {
      await row.getByRole('button', { name: 'Deliveries' }).click();
      if (
        (await page
          .getByRole('table', { name: /Recent deliveries/ })
          .getByText('delivered')
          .count()) > 0
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await page
      .getByRole('table', { name: /Recent deliveries/ })
      .getByText('delivered')
      .waitFor();

    await row.getByRole('button', { name: 'Rotate Secret' }).click();
    await page.getByText(/the old one signs beside it for 24 hours/).waitFor();
    assert.notEqual(await page.getByTestId('webhook-secret').innerText(), secret);
    await row.getByRole('button', { name: 'Pause' }).click();
    const paused = page.getByRole('row', { name: new RegExp(`^${receiverUrl.replaceAll('.', '\\.')}`) });
    await paused.getByRole('button', { name: 'Resume' }).waitFor();
    assert.match(await paused.innerText(), /paused/);
    await paused.getByRole('button', { name: 'Delete' }).click();
    await page.getByText(/Deleted the endpoint/).waitFor();
    assert.deepEqual((await client.typed(admin).webhooks.list()).webhooks, []);
  });

  it('Import: a Dry Run shows each login’s outcome and changes nothing; Import moves them; a file is read; a wrong source is said at the field', async () => {
    await tab('Import').click();
    await page.getByLabel('Format').selectOption('webmin');
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    await page.getByLabel('Source').fill(`nina:totp:${secret}\nomar::\n`);
    await page.getByRole('button', { name: 'Dry Run' }).click();
    await page
      .getByText('Would import 1, unchanged 0, conflict 0, invalid 0, skipped 1. Nothing was changed.')
      .waitFor();
    const results = page.getByRole('table', { name: 'Import results' });
    assert.match(await results.innerText(), /nina\s+imported\s+yes: non_csprng[\s\S]*omar\s+not enrolled/);
    assert.equal(
      (await client.typed(admin).users.status('nina')).enabled,
      false,
      'a dry run changed nothing',
    );
    await accessible('Import');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByText('Imported 1, unchanged 0, conflict 0, invalid 0, skipped 1.').waitFor();
    await freshStep();
    assertAccepted(await client.typed(panel).users.verify('nina', codeFor({ secret })));

    // A file chosen fills the Source; HestiaCP's loop of v-list-user objects.
    await page.getByLabel('Format').selectOption('hestia');
    await page
      .getByLabel('Export file')
      .setInputFiles(join(PROJECT_ROOT, 'test/fixtures/imports/hestia-loop.txt'));
    await page.waitForFunction(() =>
      (globalThis as any).document.querySelector('textarea').value.includes('carol'),
    );
    await page.getByRole('button', { name: 'Dry Run' }).click();
    await page.getByText(/^Would import 1, unchanged 0, conflict 0, invalid 0, skipped 1\./).waitFor();

    await page.getByLabel('Format').selectOption('cyberpanel');
    await page.getByLabel('Source').fill('not a table');
    await page.getByRole('button', { name: 'Dry Run' }).click();
    await page.getByText(/source must be rows of loginSystem_administrator/).waitFor();
    assert.equal(await page.getByLabel('Source').getAttribute('aria-invalid'), 'true');
  });

  it('Audit: the newest events on opening, “by key”, dates on one line; a user’s history', async () => {
    await tab('Audit').click();
    // Loaded without asking (dora's failures, on the moved clock, are the newest).
    const rows = page.getByRole('row');
    await rows.nth(1).waitFor();
    assert.match(await rows.nth(1).innerText(), /\tby key users\t/);
    await oneLineRows('table.audit td.when');
    await page.getByLabel('User').fill('alice');
    await page.getByRole('button', { name: 'Show' }).click();
    await page
      .getByRole('row')
      .filter({ hasText: 'lost phone, ticket 4711' })
      .filter({ hasText: 'by key bootstrap' })
      .waitFor();
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
    assert.equal(await tab('Webhooks').getAttribute('aria-selected'), 'true');
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
  });

  it('a support key sees only the tabs its scope allows, starting with Manage Users; a users key, its account', async () => {
    for (const [key, expected] of [
      [support, ['Manage Users', 'Manage My Account', 'Audit']],
      [panel, ['Manage My Account']],
    ] as const) {
      await page.getByLabel('API key').fill(key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await tab(expected[0]).waitFor();
      assert.deepEqual(await page.getByRole('tab').allInnerTexts(), expected);
      assert.equal(await tab(expected[0]).getAttribute('aria-selected'), 'true');
      assert.equal(await page.getByText(/lacks the scope/).count(), 0);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API key').waitFor();
    }
    assert.deepEqual(
      consoleErrors.filter((e) => !/401|403|422|400/.test(e)),
      [],
      'no script error, no CSP refusal',
    );
  });
});

import { type Schemas, type TfaClient, TfaApiError } from '../../client/tfaClient.ts';
import { dataTable, describe, field, h, select, statusArea } from '../ui.ts';

type Format = Schemas['ImportFormat'];
type Result = Schemas['ImportResult'];

/** The formats, and what each one's Source is (docs/migration.md says how to make it). */
const FORMATS: [Format, string, string][] = [
  ['cpanel', 'cPanel', 'tfa_userdata.json, or a WHM API 1 twofactorauth_get_tfa_config_for_user answer'],
  ['hestia', 'HestiaCP', 'the output of v-list-user <user> json, for one user or a loop over them'],
  ['webmin', 'Webmin', 'a miniserv.users or twofactor-users file (Virtualmin, Usermin too)'],
  ['cyberpanel', 'CyberPanel', 'loginSystem_administrator as mysql -B prints it'],
  ['otpauth', 'otpauth list', 'otpauth://totp/ URIs, or userId,secret lines'],
];

/** What the service reads as JSON; the other formats' files are text. */
const JSON_FORMATS: readonly Format[] = ['cpanel'];

/**
 * Import: another panel's export, chosen as a file or pasted, sent first as a Dry Run
 * (what would happen, nothing changes), then imported; the per-login results with
 * their counts. At most 1,000 logins a call: a larger export goes through `tfa import`.
 */
export function importTab(api: TfaClient): HTMLElement {
  const status = statusArea();
  const format = field(
    'Format',
    select(
      FORMATS.map(([value, label]) => [value, label]),
      'cpanel',
    ),
  );
  const hint = h('p', { class: 'hint' });
  const file = field('Export file', h('input', { type: 'file' }));
  const source = field('Source', h('textarea', { rows: '8', spellcheck: 'false', autocomplete: 'off' }));
  const overwrite = h('input', { type: 'checkbox', id: 'import-overwrite' });
  const summary = h('p', { 'aria-live': 'polite' });
  const { table, body } = dataTable('Import results', ['User', 'Outcome', 'Weak secret']);
  table.hidden = true;

  const describeFormat = () => {
    const chosen = FORMATS.find(([value]) => value === format.control.value);
    hint.textContent = chosen ? `Source: ${chosen[2]}.` : '';
  };
  format.control.addEventListener('change', describeFormat);
  describeFormat();
  file.control.addEventListener('change', async () => {
    const chosen = (file.control as HTMLInputElement).files?.[0];
    if (chosen) source.control.value = await chosen.text();
  });

  const run = async (dryRun: boolean) => {
    source.setError('');
    status.clear();
    const chosen = format.control.value as Format;
    const text = source.control.value;
    if (text.trim() === '') return source.setError('Paste the export, or choose its file.');
    let parsed: unknown = text;
    if (JSON_FORMATS.includes(chosen)) {
      try {
        parsed = JSON.parse(text);
      } catch {
        return source.setError('This format is JSON: the text is not.');
      }
    }
    try {
      status.loading(dryRun ? 'Trying…' : 'Importing…');
      const result = await api.importLogins(chosen, {
        source: parsed as Schemas['ImportRequest']['source'],
        dryRun,
        overwrite: overwrite.checked,
      });
      show(result);
      status.clear();
    } catch (error) {
      status.clear();
      // The service says what it expected of this format's source.
      if (error instanceof TfaApiError && error.code === 'invalid_source') source.setError(describe(error));
      else status.error(error);
    }
  };

  const show = (result: Result) => {
    const { imported, unchanged, conflict, invalid, skipped } = result.counts;
    const verb = result.dryRun ? 'Would import' : 'Imported';
    summary.textContent = `${verb} ${imported}, unchanged ${unchanged}, conflict ${conflict}, invalid ${invalid}, skipped ${skipped}.${result.dryRun ? ' Nothing was changed.' : ''}`;
    body.replaceChildren(
      ...result.results.map((r) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, r.userId),
          h('td', {}, r.outcome.replaceAll('_', ' ')),
          h(
            'td',
            {},
            r.weakSecret ? `yes: ${(r.weakReasons ?? []).join(', ')}` : r.weakSecret === false ? 'no' : '—',
          ),
        ),
      ),
    );
    table.hidden = false;
  };

  return h(
    'section',
    {},
    h('h2', {}, 'Import'),
    h(
      'p',
      {},
      'Move enrolments from another panel with their secrets: users keep their authenticator apps. Try a Dry Run first; a login already here with the same secret is left unchanged.',
    ),
    h(
      'form',
      { 'aria-label': 'Import', class: 'register', onsubmit: (event) => event.preventDefault() },
      format.element,
      hint,
      file.element,
      source.element,
      h(
        'div',
        {},
        overwrite,
        h('label', { for: overwrite.id }, 'Overwrite'),
        h('span', { class: 'hint' }, ' another authenticator a user has here'),
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => void run(true) }, 'Dry Run'),
        h('button', { type: 'button', onclick: () => void run(false) }, 'Import'),
      ),
    ),
    status.element,
    summary,
    table,
  );
}

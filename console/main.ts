import { TfaApiError, tfaClient, type TfaClient } from '../client/tfaClient.ts';
import { accountTab } from './tabs/account.ts';
import { auditTab } from './tabs/audit.ts';
import { settingsTab } from './tabs/settings.ts';
import { usersTab } from './tabs/users.ts';
import { field, h, statusArea } from './ui.ts';

/**
 * The console: WHM's Security Center › Two-Factor Authentication, on this API. The
 * key a person pastes is kept only in this tab's session storage, and Sign out
 * clears it. Every call goes through the typed client, to this page's own origin.
 */
const KEY = 'tfa.console.key';
const app = document.getElementById('app') as HTMLElement;
const session = document.getElementById('session') as HTMLElement;

export type Tab = { name: string; render: (api: TfaClient) => HTMLElement };
const TABS: Tab[] = [
  { name: 'Settings', render: settingsTab },
  { name: 'Manage Users', render: usersTab },
  { name: 'Manage My Account', render: accountTab },
  { name: 'Audit', render: auditTab },
];

function signIn() {
  const key = field('API key', h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false' }));
  const status = statusArea();
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const value = key.control.value.trim();
        if (!value) return key.setError('Paste a tenant API key.');
        status.loading('Signing in…');
        try {
          await tfaClient({ url: location.origin, key: value, retry: { retries: 1 } }).settings.get();
        } catch (error) {
          // A key without the admin scope may still use the tabs its scopes allow.
          if (!(error instanceof TfaApiError && error.code === 'forbidden')) return status.error(error);
        }
        sessionStorage.setItem(KEY, value);
        render();
      },
    },
    h('h2', {}, 'Sign in'),
    h('p', {}, 'Paste an API key of your tenant. It is kept in this tab only, until you sign out.'),
    key.element,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')),
    status.element,
  );
  session.replaceChildren();
  app.replaceChildren(form);
  key.control.focus();
}

function tabs(api: TfaClient) {
  const list = h('div', { role: 'tablist', 'aria-label': 'Two-Factor Authentication' });
  const panel = h('div', { role: 'tabpanel', tabindex: '0' });
  const buttons = TABS.map((tab, index) =>
    h(
      'button',
      { role: 'tab', type: 'button', id: `tab-${index}`, 'aria-selected': 'false', tabindex: '-1' },
      tab.name,
    ),
  );
  const select = (index: number, focus = false) => {
    buttons.forEach((button, i) => {
      button.setAttribute('aria-selected', String(i === index));
      button.tabIndex = i === index ? 0 : -1;
    });
    panel.setAttribute('aria-labelledby', `tab-${index}`);
    panel.replaceChildren((TABS[index] as Tab).render(api));
    if (focus) buttons[index]?.focus();
  };
  buttons.forEach((button, index) => {
    button.addEventListener('click', () => select(index));
    // The tab pattern of the WAI-ARIA practices: arrows, Home and End move between tabs.
    button.addEventListener('keydown', (event) => {
      const last = buttons.length - 1;
      const to = {
        ArrowRight: index === last ? 0 : index + 1,
        ArrowLeft: index === 0 ? last : index - 1,
        Home: 0,
        End: last,
      }[event.key];
      if (to !== undefined) {
        event.preventDefault();
        select(to, true);
      }
    });
    list.append(button);
  });
  select(0);
  return h('div', {}, list, panel);
}

function render() {
  const key = sessionStorage.getItem(KEY);
  if (!key) return signIn();
  const api = tfaClient({ url: location.origin, key });
  session.replaceChildren(
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          sessionStorage.removeItem(KEY);
          render();
        },
      },
      'Sign out',
    ),
  );
  app.replaceChildren(tabs(api));
}

render();

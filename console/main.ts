import { TfaApiError, tfaClient, type TfaClient } from '../client/tfaClient.ts';
import { accountTab } from './tabs/account.ts';
import { auditTab } from './tabs/audit.ts';
import { settingsTab } from './tabs/settings.ts';
import { usersTab } from './tabs/users.ts';
import { importTab } from './tabs/import.ts';
import { webhooksTab } from './tabs/webhooks.ts';
import { describe, field, h, statusArea } from './ui.ts';

/**
 * The console: WHM's Security Center › Two-Factor Authentication, on this API. The
 * key a person pastes is kept only in this tab's session storage, and Sign out
 * clears it. Every call goes through the typed client, to this page's own origin.
 */
const KEY = 'tfa.console.key';
const app = document.getElementById('app') as HTMLElement;
const session = document.getElementById('session') as HTMLElement;

/** What a key may do, as far as the console can tell without a route that says it. */
export type Access = 'admin' | 'support' | 'users';
export type Tab = { name: string; render: (api: TfaClient) => HTMLElement; for: Access[] };
const TABS: Tab[] = [
  { name: 'Settings', render: settingsTab, for: ['admin'] },
  { name: 'Manage Users', render: usersTab, for: ['admin', 'support'] },
  { name: 'Manage My Account', render: accountTab, for: ['admin', 'support', 'users'] },
  { name: 'Import', render: importTab, for: ['admin'] },
  { name: 'Webhooks', render: webhooksTab, for: ['admin'] },
  { name: 'Audit', render: auditTab, for: ['admin', 'support'] },
];

/**
 * Which tabs a key opens, found by asking: the settings answer only an admin key,
 * the user list a support key; a key that reaches neither has the users scope.
 */
async function accessOf(api: TfaClient): Promise<Access> {
  const refused = (error: unknown) => error instanceof TfaApiError && error.code === 'forbidden';
  try {
    await api.settings.get();
    return 'admin';
  } catch (error) {
    if (!refused(error)) throw error;
  }
  try {
    await api.users.list({ limit: 1 });
    return 'support';
  } catch (error) {
    if (!refused(error)) throw error;
  }
  return 'users';
}

function signIn(said?: string) {
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
        let access: Access;
        try {
          access = await accessOf(tfaClient({ url: location.origin, key: value, retry: { retries: 1 } }));
        } catch (error) {
          if (error instanceof TfaApiError && error.code === 'unauthorized') {
            return status.error(
              'This API key is not valid: check that it was pasted whole, or ask an administrator for a new one.',
            );
          }
          return status.error(error);
        }
        sessionStorage.setItem(KEY, value);
        show(value, access);
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
  if (said) status.error(said);
  key.control.focus();
}

function tabs(api: TfaClient, access: Access) {
  const list = h('div', { role: 'tablist', 'aria-label': 'Two-Factor Authentication' });
  const panel = h('div', { role: 'tabpanel', tabindex: '0' });
  // Only the tabs this key may use; the first of them opens.
  const usable = TABS.filter((tab) => tab.for.includes(access));
  const buttons = usable.map((tab, index) =>
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
    panel.replaceChildren((usable[index] as Tab).render(api));
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

/** The signed-in page: Sign out, and the tabs the key may use. */
function show(key: string, access: Access) {
  const api = tfaClient({ url: location.origin, key });
  session.replaceChildren(
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          sessionStorage.removeItem(KEY);
          signIn();
        },
      },
      'Sign out',
    ),
  );
  app.replaceChildren(tabs(api, access));
}

/** A reload keeps the session: the key is asked again what it may do (it may be gone). */
async function render() {
  const key = sessionStorage.getItem(KEY);
  if (!key) return signIn();
  try {
    show(key, await accessOf(tfaClient({ url: location.origin, key })));
  } catch (error) {
    sessionStorage.removeItem(KEY);
    signIn(
      error instanceof TfaApiError && error.code === 'unauthorized'
        ? 'The API key of this session is no longer valid: sign in with another.'
        : describe(error),
    );
  }
}

void render();

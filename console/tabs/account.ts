import type { Schemas, TfaClient } from '../../client/tfaClient.ts';
import { announce, field, h, shortTime, statusArea } from '../ui.ts';

const CONFIGURE = 'Configure Two-Factor Authentication';

/** The key as apps ask for it in manual entry: groups of four. */
export const grouped = (secret: string) => secret.match(/.{1,4}/g)?.join(' ') ?? secret;

type Mode = 'first' | 'reconfigure' | 'add';

const SETUP_BODY: Record<Mode, Schemas['SetupRequest']> = {
  first: {},
  reconfigure: { reconfigure: true },
  add: { add: true },
};

/**
 * Manage My Account, for one user: configure (QR code and key, then the Security
 * Code), the recovery codes once, reconfigure and remove; the user's authenticators
 * by label, each with Rename and Remove, and Add Another Authenticator. Once the code
 * is confirmed, neither the key nor the QR code stays in the page.
 */
export function accountTab(api: TfaClient): HTMLElement {
  const user = field('User', h('input', { autocomplete: 'username', spellcheck: 'false' }));
  const status = statusArea();
  // What a pending setup shows (inside the form, so Enter in the Security Code confirms)…
  const pendingArea = h('div');
  // …and the rest: the state, the recovery codes, the removal's reason.
  const stage = h('div');
  let pending: Schemas['Setup'] | undefined;

  const userId = () => user.control.value.trim();
  /** Forget the secret: the nodes that showed it go, and so does the reference. */
  const forget = () => {
    pending = undefined;
    pendingArea.replaceChildren();
    configureButton.dataset.step = '';
    stage.replaceChildren();
  };
  user.control.addEventListener('input', () => {
    forget();
    status.clear();
  });

  /** The user's state first, in words that never call a locked or disabled user plainly enabled. */
  const showState = async () => {
    const state = await api.users.status(userId());
    const id = state.userId;
    const lines: HTMLElement[] = [];
    if (state.disabled) {
      lines.push(
        h(
          'p',
          { class: 'error' },
          `Two-factor authentication for ${id} is disabled after 100 failed codes: no code is accepted. Remove it, then ${id} configures it again.`,
        ),
      );
    } else if (state.enabled && state.lockedUntil) {
      lines.push(
        h(
          'p',
          { class: 'notice' },
          `Two-factor authentication is enabled for ${id}, but ${id} is locked out until ${shortTime(state.lockedUntil)} after failed codes (Manage Users can unlock).`,
        ),
      );
    } else if (state.enabled) {
      lines.push(h('p', { class: 'ok' }, `Two-factor authentication is enabled for ${id}.`));
    } else if (state.pending) {
      lines.push(
        h('p', {}, `${id} has started to configure two-factor authentication, but not confirmed it.`),
      );
    } else {
      lines.push(h('p', {}, `Two-factor authentication is not configured for ${id}.`));
    }
    if (state.enabled) {
      const facts: [string, string][] = [
        ['Configured', state.confirmedAt ? shortTime(state.confirmedAt) : '-'],
        ['Last code', state.lastVerifiedAt ? shortTime(state.lastVerifiedAt) : 'never'],
        ['Recovery codes left', String(state.recoveryCodesRemaining)],
        ['From', state.source === 'import' ? 'an import' : 'setup here'],
      ];
      if (state.pending) facts.push(['Reconfigure', 'started, not confirmed']);
      lines.push(h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
    }
    if (state.authenticators.length > 0) lines.push(authenticatorList(state));
    if (state.weakSecret) {
      lines.push(
        h(
          'p',
          { class: 'notice' },
          `Its key is shorter than 128 bits${state.source === 'import' ? ' (imported)' : ''}: reconfigure it.`,
        ),
      );
    }
    const actions: HTMLButtonElement[] = [];
    if (state.enabled) {
      actions.push(
        h(
          'button',
          { type: 'button', class: 'secondary', onclick: () => void start('reconfigure') },
          'Reconfigure Two-Factor Authentication',
        ),
        h(
          'button',
          { type: 'button', class: 'secondary', onclick: () => void start('add') },
          'Add Another Authenticator',
        ),
      );
    }
    if (state.enabled || state.pending) {
      actions.push(
        h(
          'button',
          { type: 'button', class: 'danger', onclick: () => askReason(state.enabled) },
          'Remove Two-Factor Authentication',
        ),
      );
    }
    stage.replaceChildren(...lines, ...(actions.length ? [h('div', { class: 'actions' }, ...actions)] : []));
    return state;
  };

  /** The authenticators by label, oldest first, each with Rename and Remove. */
  const authenticatorList = (state: Schemas['Status']) =>
    h(
      'table',
      { class: 'authenticators' },
      h('caption', {}, 'Authenticators'),
      h(
        'thead',
        {},
        h('tr', {}, ...['Label', 'Added', 'Last used', 'Actions'].map((c) => h('th', { scope: 'col' }, c))),
      ),
      h(
        'tbody',
        {},
        ...state.authenticators.map((a) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, a.label + (a.weakSecret ? ' (weak key)' : '')),
            h('td', {}, shortTime(a.confirmedAt)),
            h('td', {}, a.lastUsedAt ? shortTime(a.lastUsedAt) : 'never'),
            h(
              'td',
              {},
              h(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  'aria-label': `Rename ${a.label}`,
                  onclick: () => askLabel(a),
                },
                'Rename',
              ),
              h(
                'button',
                {
                  type: 'button',
                  class: 'danger',
                  'aria-label': `Remove ${a.label}`,
                  onclick: () => askReason(state.enabled, a),
                },
                'Remove',
              ),
            ),
          ),
        ),
      ),
    );

  const askLabel = (a: Schemas['Authenticator']) => {
    const label = field('Label', h('input', { autocomplete: 'off', maxlength: '64', value: a.label }));
    stage.replaceChildren(
      h(
        'form',
        {
          'aria-label': `Rename ${a.label}`,
          onsubmit: async (event) => {
            event.preventDefault();
            const wanted = label.control.value.trim();
            if (!wanted) return label.setError('Give the authenticator a label.');
            try {
              const renamed = await api.users.renameAuthenticator(userId(), a.authenticatorId, wanted);
              await showState();
              status.ok(`Renamed to ${renamed.label}.`);
            } catch (error) {
              status.error(error);
            }
          },
        },
        label.element,
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'submit' }, 'Save'),
          h('button', { type: 'button', class: 'secondary', onclick: () => void showState() }, 'Cancel'),
        ),
      ),
    );
    label.control.focus();
  };

  const lookUp = async () => {
    if (!userId()) return user.setError('Type the user to look up.');
    user.setError('');
    forget();
    status.loading();
    try {
      await showState();
      status.clear();
    } catch (error) {
      status.error(error);
    }
  };

  const start = async (mode: Mode) => {
    status.loading();
    try {
      pending = await api.users.setup(userId(), SETUP_BODY[mode]);
      const code = field(
        'Security Code',
        h('input', { inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '8' }),
      );
      stage.replaceChildren();
      pendingArea.replaceChildren(
        h('p', {}, 'Scan the QR code with your authenticator app, or enter the account and key by hand.'),
        h('img', {
          src: pending.qrPng,
          alt: `QR code to add ${pending.userId} to an authenticator app`,
          width: '256',
          height: '256',
        }),
        h(
          'dl',
          {},
          h('dt', {}, 'Account'),
          h('dd', {}, pending.userId),
          h('dt', {}, 'Key'),
          h('dd', { class: 'key', 'data-testid': 'key' }, grouped(pending.secret)),
        ),
        h('p', {}, `Then type the ${pending.digits}-digit code the app shows.`),
        code.element,
      );
      status.clear();
      code.control.focus();
      configureButton.dataset.step = 'confirm';
      pendingArea.dataset.code = code.control.id;
    } catch (error) {
      status.error(error);
    }
  };

  const confirm = async () => {
    const input = document.getElementById(pendingArea.dataset.code ?? '') as HTMLInputElement | null;
    if (!pending || !input) return;
    status.loading('Checking the code…');
    try {
      const confirmed = await api.users.confirm(pending.userId, input.value.trim());
      forget();
      if (confirmed.recoveryCodes) {
        showRecoveryCodes(confirmed.userId, confirmed.recoveryCodes);
        status.ok(`Two-factor authentication is now enabled for ${confirmed.userId}.`);
      } else {
        // An added authenticator keeps the recovery codes the user has.
        await showState();
        status.ok(`${confirmed.label} added for ${confirmed.userId}.`);
      }
    } catch (error) {
      status.error(error);
      input.focus();
    }
  };

  const showRecoveryCodes = (id: string, codes: string[]) => {
    const text = `${codes.join('\n')}\n`;
    const download = h(
      'a',
      {
        href: URL.createObjectURL(new Blob([text], { type: 'text/plain' })),
        download: `${id}-recovery-codes.txt`,
      },
      'Download',
    );
    stage.replaceChildren(
      h('h3', {}, 'Recovery codes'),
      h('p', {}, 'Each works once, if the phone is lost. They are shown only now: keep them somewhere safe.'),
      h('ul', { class: 'codes', 'aria-label': 'Recovery codes' }, ...codes.map((c) => h('li', {}, c))),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => void navigator.clipboard?.writeText(text).then(() => announce('Copied.')),
          },
          'Copy',
        ),
        download,
        h('button', { type: 'button', onclick: () => void showState() }, 'Done'),
      ),
    );
  };

  /** Remove all (no `one`), or one authenticator: either asks for a reason first. */
  const askReason = (enabled: boolean, one?: Schemas['Authenticator']) => {
    const reason = field('Reason', h('input', { autocomplete: 'off', maxlength: '256' }));
    const others = one === undefined ? 0 : stage.querySelectorAll('table.authenticators tbody tr').length - 1;
    stage.replaceChildren(
      h(
        'p',
        {},
        one !== undefined && others > 0
          ? `${one.label} stops working; the other authenticators and the recovery codes stay.`
          : enabled
            ? `${userId()} signs in with the password alone until they configure it again.`
            : 'The setup that was started is cancelled; nothing else changes.',
      ),
      h(
        'form',
        {
          'aria-label': one === undefined ? 'Remove two-factor authentication' : `Remove ${one.label}`,
          onsubmit: async (event) => {
            event.preventDefault();
            if (!reason.control.value.trim())
              return reason.setError('Give a reason: it goes into the audit trail.');
            try {
              if (one === undefined) await api.users.remove(userId(), reason.control.value.trim());
              else
                await api.users.removeAuthenticator(
                  userId(),
                  one.authenticatorId,
                  reason.control.value.trim(),
                );
              await showState();
              status.ok(
                one === undefined
                  ? `Two-factor authentication removed for ${userId()}.`
                  : `${one.label} removed.`,
              );
            } catch (error) {
              status.error(error);
            }
          },
        },
        reason.element,
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'submit', class: 'danger' }, 'Confirm'),
          h('button', { type: 'button', class: 'secondary', onclick: () => void showState() }, 'Cancel'),
        ),
      ),
    );
    reason.control.focus();
  };

  const configureButton = h('button', { type: 'submit' }, CONFIGURE);
  const lookUpButton = h(
    'button',
    { type: 'button', class: 'secondary', onclick: () => void lookUp() },
    'Look Up',
  );
  // Enter in the User field looks the user up: enrolling is only ever the explicit button.
  user.control.addEventListener('keydown', (event) => {
    if ((event as KeyboardEvent).key === 'Enter') {
      event.preventDefault();
      void lookUp();
    }
  });
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        if (!userId()) return user.setError('Type the user whose two-factor authentication this is.');
        user.setError('');
        if (configureButton.dataset.step === 'confirm') return confirm();
        status.loading();
        try {
          // Already enabled: say so and offer Reconfigure, never replace it unasked.
          const state = await showState();
          if (state.enabled) status.clear();
          else await start('first');
        } catch (error) {
          status.error(error);
        }
      },
    },
    user.element,
    pendingArea,
    h('div', { class: 'actions' }, lookUpButton, configureButton),
  );
  return h('section', {}, h('h2', {}, 'Manage My Account'), form, stage, status.element);
}

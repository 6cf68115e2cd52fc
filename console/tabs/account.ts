import type { Schemas, TfaClient } from '../../client/tfaClient.ts';
import { announce, field, h, statusArea } from '../ui.ts';

const CONFIGURE = 'Configure Two-Factor Authentication';

/** The key as apps ask for it in manual entry: groups of four. */
export const grouped = (secret: string) => secret.match(/.{1,4}/g)?.join(' ') ?? secret;

/**
 * Manage My Account, for one user: configure (QR code and key, then the Security
 * Code), the recovery codes once, reconfigure and remove. Once the code is
 * confirmed, neither the key nor the QR code stays in the page.
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

  const showState = async () => {
    const state = await api.users.status(userId());
    if (!state.enabled) {
      stage.replaceChildren(h('p', {}, `Two-factor authentication is not configured for ${state.userId}.`));
      return;
    }
    stage.replaceChildren(
      h('p', { class: 'ok' }, `Two-factor authentication is enabled for ${state.userId}.`),
      ...(state.weakSecret
        ? [
            h(
              'p',
              { class: 'notice' },
              'Its key is shorter than 128 bits (imported from cPanel): reconfigure it.',
            ),
          ]
        : []),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          { type: 'button', class: 'secondary', onclick: () => void start(true) },
          'Reconfigure Two-Factor Authentication',
        ),
        h(
          'button',
          { type: 'button', class: 'danger', onclick: () => askReason() },
          'Remove Two-Factor Authentication',
        ),
      ),
    );
  };

  const start = async (reconfigure: boolean) => {
    status.loading();
    try {
      pending = await api.users.setup(userId(), { reconfigure });
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
      showRecoveryCodes(confirmed.userId, confirmed.recoveryCodes);
      status.ok(`Two-factor authentication is now enabled for ${confirmed.userId}.`);
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

  const askReason = () => {
    const reason = field('Reason', h('input', { autocomplete: 'off', maxlength: '256' }));
    stage.replaceChildren(
      h(
        'form',
        {
          'aria-label': 'Remove two-factor authentication',
          onsubmit: async (event) => {
            event.preventDefault();
            if (!reason.control.value.trim())
              return reason.setError('Give a reason: it goes into the audit trail.');
            try {
              await api.users.remove(userId(), reason.control.value.trim());
              await showState();
              status.ok(`Two-factor authentication removed for ${userId()}.`);
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
          const state = await api.users.status(userId());
          if (state.enabled) {
            await showState();
            status.clear();
          } else await start(false);
        } catch (error) {
          status.error(error);
        }
      },
    },
    user.element,
    pendingArea,
    h('div', { class: 'actions' }, configureButton),
  );
  return h('section', {}, h('h2', {}, 'Manage My Account'), form, stage, status.element);
}

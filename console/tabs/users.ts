import type { Schemas, TfaClient } from '../../client/tfaClient.ts';
import { dataTable, describe, field, h, select, shortTime, statusArea } from '../ui.ts';

type Row = Pick<
  Schemas['UserSummary'],
  'userId' | 'enabled' | 'pending' | 'lockedUntil' | 'disabled' | 'source' | 'weakSecret'
>;
type Filter = '' | 'enabled' | 'pending' | 'locked' | 'disabled';

/** A user's state in the words support reads, one line. */
function stateWords(user: Row): string {
  if (user.disabled) return 'Disabled after 100 failed codes';
  if (user.enabled) {
    const words = ['Enabled'];
    if (user.weakSecret) words.push(`weak ${user.source === 'import' ? 'imported ' : ''}key`);
    if (user.pending) words.push('reconfigure pending');
    return words.join(', ');
  }
  return user.pending ? 'Setup pending' : 'Not configured';
}

const isLocked = (user: Row) => user.lockedUntil !== null && Date.parse(user.lockedUntil) > Date.now();

/** What removing 2FA does to this user, said before Confirm. */
function removalMeans(user: Row): string {
  if (user.disabled) {
    return `The disabled authenticator is removed: ${user.userId} signs in with the password alone until they configure two-factor authentication again.`;
  }
  if (user.enabled) {
    return `${user.userId} signs in with the password alone until they configure it again.${user.pending ? ' The pending reconfigure is cancelled too.' : ''}`;
  }
  return `The pending setup is cancelled. ${user.userId} never completed it, so nothing else changes.`;
}

/**
 * Manage Users: the users with 2FA, a page at a time (one call a page: each row
 * carries its lock and its disable), or one user found by id. Each row offers only
 * what fits its state: Unlock on a locked user, Disable (removal) on a user with an
 * authenticator or a pending setup; the reason form opens under the row, and the
 * outcome is said in the row.
 */
export function usersTab(api: TfaClient): HTMLElement {
  const filter = field(
    'Show',
    select(
      [
        ['', 'All users'],
        ['enabled', 'Enabled'],
        ['pending', 'Pending setup'],
        ['locked', 'Locked'],
        ['disabled', 'Disabled'],
      ],
      '',
    ),
  );
  const search = field('Find user', h('input', { type: 'search', autocomplete: 'off', spellcheck: 'false' }));
  const status = statusArea();
  const { table, body } = dataTable('Users with two-factor authentication', [
    'User',
    'Status',
    'Lock',
    'Actions',
  ]);
  table.classList.add('users');
  const next = h('button', { type: 'button', class: 'secondary' }, 'Next page');
  const first = h('button', { type: 'button', class: 'secondary' }, 'First page');
  let cursor: string | undefined;

  const load = async (at: string | undefined) => {
    status.loading();
    try {
      const chosen = filter.control.value as Filter;
      const page = await api.users.list({
        limit: 25,
        ...(chosen ? { status: chosen } : {}),
        ...(at ? { cursor: at } : {}),
      });
      body.replaceChildren(...page.users.map((u) => row(u)));
      cursor = page.nextCursor ?? undefined;
      next.hidden = cursor === undefined;
      first.hidden = at === undefined;
      if (page.users.length === 0)
        status.ok(page.nextCursor ? 'No users on this page: try the next.' : 'No users.');
      else status.clear();
    } catch (error) {
      status.error(error);
    }
  };

  const find = async () => {
    const userId = search.control.value.trim();
    if (!userId) return load(undefined);
    status.loading();
    try {
      const found = await api.users.status(userId);
      body.replaceChildren(row(found));
      next.hidden = true;
      first.hidden = false;
      status.clear();
    } catch (error) {
      status.error(error);
    }
  };

  const row = (user: Row, said?: string): HTMLTableRowElement => {
    const id = `user-${user.userId}`;
    const note = h('span', { class: 'row-note', role: 'status' }, said ?? '');
    const buttons: HTMLButtonElement[] = [];
    // A disabled user's lock is beside the point: Unlock would leave it disabled.
    if (isLocked(user) && !user.disabled) {
      const unlock = h('button', { type: 'button', class: 'secondary', 'aria-describedby': id }, 'Unlock');
      unlock.addEventListener('click', async () => {
        try {
          const after = await api.users.unlock(user.userId);
          tr.replaceWith(row(after, `Unlocked ${user.userId}.`));
        } catch (error) {
          note.textContent = describe(error);
        }
      });
      buttons.push(unlock);
    }
    if (user.enabled || user.pending) {
      const disable = h('button', { type: 'button', class: 'danger', 'aria-describedby': id }, 'Disable');
      disable.addEventListener('click', () => askReason(user, tr, disable));
      buttons.push(disable);
    }
    const tr = h(
      'tr',
      {},
      h('th', { scope: 'row', id }, user.userId),
      h('td', {}, stateWords(user)),
      h(
        'td',
        {},
        user.disabled
          ? '—'
          : isLocked(user)
            ? `Locked until ${shortTime(user.lockedUntil as string)}`
            : 'Not locked',
      ),
      h('td', {}, h('div', { class: 'row-actions' }, ...buttons, note)),
    );
    return tr;
  };

  /** The reason form, in a row of its own right under the user's. */
  const askReason = (user: Row, tr: HTMLTableRowElement, opener: HTMLButtonElement) => {
    const open = tr.nextElementSibling?.classList.contains('row-form') ? tr.nextElementSibling : null;
    open?.remove();
    const reason = field('Reason', h('input', { autocomplete: 'off', maxlength: '256' }));
    const formRow = h('tr', { class: 'row-form' });
    const cancel = () => {
      formRow.remove();
      opener.focus();
    };
    const form = h(
      'form',
      {
        'aria-label': `Disable two-factor authentication for ${user.userId}`,
        onsubmit: async (event) => {
          event.preventDefault();
          const text = reason.control.value.trim();
          if (!text) return reason.setError('Give a reason: it goes into the audit trail.');
          try {
            await api.users.remove(user.userId, text);
            formRow.remove();
            const after = await api.users.status(user.userId);
            tr.replaceWith(row(after, `Two-factor authentication disabled for ${user.userId}.`));
          } catch (error) {
            reason.setError(describe(error));
          }
        },
      },
      h('p', {}, removalMeans(user)),
      reason.element,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'danger' }, 'Confirm'),
        h('button', { type: 'button', class: 'secondary', onclick: cancel }, 'Cancel'),
      ),
    );
    formRow.append(h('td', { colspan: '4' }, form));
    tr.after(formRow);
    reason.control.focus();
  };

  filter.control.addEventListener('change', () => {
    search.control.value = '';
    void load(undefined);
  });
  const findForm = h(
    'form',
    {
      class: 'inline',
      role: 'search',
      onsubmit: (event) => {
        event.preventDefault();
        void find();
      },
    },
    search.element,
    h('button', { type: 'submit', class: 'secondary' }, 'Find'),
  );
  next.addEventListener('click', () => load(cursor));
  first.addEventListener('click', () => {
    search.control.value = '';
    void load(undefined);
  });
  next.hidden = true;
  first.hidden = true;
  void load(undefined);
  return h(
    'section',
    {},
    h('h2', {}, 'Manage Users'),
    h('div', { class: 'toolbar' }, filter.element, findForm),
    status.element,
    table,
    h('div', { class: 'actions' }, first, next),
  );
}

import type { Schemas, TfaClient } from '../../client/tfaClient.ts';
import { announce, dataTable, field, h, select, statusArea } from '../ui.ts';

/** Manage Users: who has 2FA, their state, Unlock, and Disable with a reason. */
export function usersTab(api: TfaClient): HTMLElement {
  const filter = field(
    'Show',
    select(
      [
        ['', 'All users'],
        ['enabled', 'Enabled'],
        ['pending', 'Pending setup'],
      ],
      '',
    ),
  );
  const status = statusArea();
  const { table, body } = dataTable('Users with two-factor authentication', [
    'User',
    'Status',
    'Lock',
    'Actions',
  ]);
  const confirmArea = h('div');
  const next = h('button', { type: 'button', class: 'secondary' }, 'Next page');
  const first = h('button', { type: 'button', class: 'secondary' }, 'First page');
  let cursor: string | undefined;
  let pageCursor: string | undefined;

  const load = async (at: string | undefined) => {
    status.loading();
    confirmArea.replaceChildren();
    try {
      const statusFilter = filter.control.value as '' | 'enabled' | 'pending';
      const page = await api.users.list({
        limit: 25,
        ...(statusFilter ? { status: statusFilter } : {}),
        ...(at ? { cursor: at } : {}),
      });
      pageCursor = at;
      // The list has the lock; the disable is in each user's status.
      const statuses = await Promise.all(
        page.users.map((u) => api.users.status(u.userId).catch(() => undefined)),
      );
      body.replaceChildren(...page.users.map((u, i) => row(u, statuses[i])));
      cursor = page.nextCursor ?? undefined;
      next.hidden = cursor === undefined;
      first.hidden = at === undefined;
      if (page.users.length === 0) status.ok(page.nextCursor ? 'No users on this page.' : 'No users.');
      else status.clear();
    } catch (error) {
      status.error(error);
    }
  };

  const row = (user: Schemas['UserSummary'], state: Schemas['Status'] | undefined) => {
    const locked = user.lockedUntil !== null && Date.parse(user.lockedUntil) > Date.now();
    const words = [
      user.enabled ? 'Enabled' : 'Not configured',
      user.pending ? 'setup pending' : '',
      state?.disabled ? 'disabled after 100 failures' : '',
    ]
      .filter(Boolean)
      .join(', ');
    const unlock = h(
      'button',
      { type: 'button', class: 'secondary', 'aria-describedby': `user-${user.userId}` },
      'Unlock',
    );
    unlock.disabled = !locked;
    unlock.addEventListener('click', async () => {
      try {
        await api.users.unlock(user.userId);
        announce(`${user.userId} unlocked.`);
        await load(pageCursor);
      } catch (error) {
        status.error(error);
      }
    });
    const disable = h(
      'button',
      { type: 'button', class: 'danger', 'aria-describedby': `user-${user.userId}` },
      'Disable',
    );
    disable.addEventListener('click', () => askReason(user.userId, disable));
    return h(
      'tr',
      {},
      h('th', { scope: 'row', id: `user-${user.userId}` }, user.userId),
      h('td', {}, words),
      h(
        'td',
        {},
        locked ? `Locked until ${new Date(user.lockedUntil as string).toLocaleString()}` : 'Not locked',
      ),
      h('td', {}, h('div', { class: 'actions' }, unlock, disable)),
    );
  };

  const askReason = (userId: string, opener: HTMLButtonElement) => {
    const reason = field('Reason', h('input', { autocomplete: 'off', maxlength: '256' }));
    const cancel = () => {
      confirmArea.replaceChildren();
      opener.focus();
    };
    const form = h(
      'form',
      {
        'aria-label': `Disable two-factor authentication for ${userId}`,
        onsubmit: async (event) => {
          event.preventDefault();
          if (!reason.control.value.trim())
            return reason.setError('Give a reason: it goes into the audit trail.');
          try {
            await api.users.remove(userId, reason.control.value.trim());
            await load(pageCursor);
            status.ok(`Two-factor authentication disabled for ${userId}.`);
          } catch (error) {
            reason.setError(error instanceof Error ? error.message : String(error));
          }
        },
      },
      h('h3', {}, `Disable two-factor authentication for ${userId}`),
      h('p', {}, 'The user signs in with the password alone until they configure it again.'),
      reason.element,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'danger' }, 'Confirm'),
        h('button', { type: 'button', class: 'secondary', onclick: cancel }, 'Cancel'),
      ),
    );
    confirmArea.replaceChildren(form);
    reason.control.focus();
  };

  filter.control.addEventListener('change', () => load(undefined));
  next.addEventListener('click', () => load(cursor));
  first.addEventListener('click', () => load(undefined));
  next.hidden = true;
  first.hidden = true;
  void load(undefined);
  return h(
    'section',
    {},
    h('h2', {}, 'Manage Users'),
    filter.element,
    status.element,
    table,
    h('div', { class: 'actions' }, first, next),
    confirmArea,
  );
}

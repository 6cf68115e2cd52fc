import type { Schemas, TfaClient, UserFilter } from '../../client/tfaClient.ts';
import {
  dataTable,
  describe,
  disclosure,
  field,
  h,
  select,
  shortDate,
  shortTime,
  statusArea,
} from '../ui.ts';

/** A list row, or a status found by id (whose `authenticators` is the list itself). */
type Row = Pick<
  Schemas['UserSummary'],
  | 'userId'
  | 'enabled'
  | 'pending'
  | 'lockedUntil'
  | 'disabled'
  | 'source'
  | 'weakSecret'
  | 'registered'
  | 'enrolment'
> & { authenticators: number | unknown[] };

/** The Show filter: the contract's six first, then the other states support looks for. */
const SHOW: [UserFilter | '', string][] = [
  ['', 'All'],
  ['enabled', 'Enrolled'],
  ['pending', 'Pending'],
  ['due', 'Due'],
  ['overdue', 'Overdue'],
  ['exempt', 'Exempt'],
  ['unenrolled', 'Not enrolled'],
  ['locked', 'Locked'],
  ['disabled', 'Disabled'],
];

/** A user's state in the words support reads, one line. */
function stateWords(user: Row): string {
  if (user.disabled) return 'Disabled after 100 failed codes';
  if (user.enabled) {
    const words = ['Enabled'];
    if (user.weakSecret) words.push(`weak ${user.source === 'import' ? 'imported ' : ''}key`);
    if (user.pending) words.push('reconfigure pending');
    return words.join(', ');
  }
  const enrolment = {
    overdue: 'Not enrolled, overdue',
    due: 'Not enrolled, due',
    exempt: 'Exempt',
    not_required: 'Registered',
    enrolled: 'Registered',
    unregistered: 'Not configured',
  }[user.enrolment.state];
  return user.pending
    ? `${enrolment === 'Not configured' ? 'Setup' : `${enrolment}, setup`} pending`
    : enrolment;
}

const authenticatorCount = (user: Row) =>
  typeof user.authenticators === 'number' ? user.authenticators : user.authenticators.length;

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
 * Manage Users: the tenant's enrolment counts, and the users the service knows, a
 * page at a time (one call a page: each row carries its lock, its disable and its
 * due date), or one user found by id. Each row offers only what fits its state:
 * Unlock on a locked user, Disable (removal) on a user with an authenticator or a
 * pending setup; the reason form opens under the row, and the outcome is said in
 * the row. Register users takes ids, one a line.
 */
export function usersTab(api: TfaClient): HTMLElement {
  const filter = field('Show', select(SHOW, ''));
  const search = field('Find user', h('input', { type: 'search', autocomplete: 'off', spellcheck: 'false' }));
  const status = statusArea();
  const counts = h('dl', { class: 'counts' });
  const { table, body } = dataTable('Users', ['User', 'Status', 'Authenticators', 'Due', 'Lock', 'Actions']);
  table.classList.add('users');
  const next = h('button', { type: 'button', class: 'secondary' }, 'Next page');
  const first = h('button', { type: 'button', class: 'secondary' }, 'First page');
  let cursor: string | undefined;

  /** The counts, exact as the service answers them; they stay as they were if it cannot. */
  const loadCounts = async () => {
    try {
      const report = await api.enrolment.report();
      const c = report.counts;
      const shown: [string, number][] = [
        ['Registered', c.registered],
        ['Enrolled', c.enrolled],
        ['Not enrolled', c.unenrolled],
        ...(report.required
          ? ([
              ['Due', c.due],
              ['Overdue', c.overdue],
            ] as [string, number][])
          : []),
        ['Exempt', c.exempt],
      ];
      counts.replaceChildren(
        ...shown.map(([name, value]) => h('div', {}, h('dt', {}, name), h('dd', {}, value.toLocaleString()))),
      );
      counts.title = `As of ${shortTime(report.asOf)}${report.required ? '' : '; enrolment is not required'}`;
    } catch (error) {
      counts.replaceChildren(h('p', { class: 'error' }, `Counts: ${describe(error)}`));
    }
  };

  const load = async (at: string | undefined) => {
    status.loading();
    try {
      const chosen = filter.control.value as UserFilter | '';
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
    if (user.enabled || user.pending || authenticatorCount(user) > 0) {
      const disable = h('button', { type: 'button', class: 'danger', 'aria-describedby': id }, 'Disable');
      disable.addEventListener('click', () => askReason(user, tr, disable));
      buttons.push(disable);
    }
    const tr = h(
      'tr',
      {},
      h('th', { scope: 'row', id }, user.userId),
      h('td', {}, stateWords(user)),
      h('td', { class: 'number' }, String(authenticatorCount(user))),
      h('td', {}, user.enrolment.dueAt ? shortDate(user.enrolment.dueAt) : '—'),
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
            void loadCounts();
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
    formRow.append(h('td', { colspan: '6' }, form));
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
  void loadCounts();
  void load(undefined);
  const registering = registerForm(api, () => {
    void loadCounts();
    void load(undefined);
  });
  return h(
    'section',
    {},
    h('h2', {}, 'Manage Users'),
    counts,
    h('div', { class: 'toolbar' }, filter.element, findForm, registering.opener),
    registering.form,
    status.element,
    table,
    h('div', { class: 'actions' }, first, next),
  );
}

/**
 * Register users: ids one a line (blank lines and repeats are skipped), with an
 * optional own due date or exemption for all of them. Each id gets its own call, a
 * few at a time; the ids the service refuses are listed with its reason, the rest
 * are registered (registering again changes nothing but what was asked).
 */
function registerForm(api: TfaClient, registered: () => void) {
  const opener = h(
    'button',
    { type: 'button', class: 'secondary', 'aria-expanded': 'false' },
    'Register users',
  );
  const ids = field(
    'User ids, one a line',
    h('textarea', { rows: '6', autocomplete: 'off', spellcheck: 'false' }),
  );
  const due = field('Own due date (optional)', h('input', { type: 'date' }));
  const exempt = field('Exempt', h('input', { type: 'checkbox' }));
  const status = statusArea();
  const submit = h('button', { type: 'submit' }, 'Register');
  const form = h(
    'form',
    {
      'aria-label': 'Register users',
      class: 'register',
      onsubmit: async (event) => {
        event.preventDefault();
        const lines = [...new Set(ids.control.value.split(/\r?\n/).map((line) => line.trim()))].filter(
          Boolean,
        );
        if (lines.length === 0) return ids.setError('Give at least one user id.');
        ids.setError('');
        const body = {
          ...(due.control.value ? { dueAt: `${due.control.value}T00:00:00Z` } : {}),
          ...(exempt.control.checked ? { exempt: true } : {}),
        };
        submit.disabled = true;
        const refused: { userId: string; why: string }[] = [];
        let done = 0;
        let next = 0;
        const worker = async () => {
          while (next < lines.length) {
            const userId = lines[next++] as string;
            try {
              await api.users.register(userId, body);
            } catch (error) {
              refused.push({ userId, why: describe(error) });
            }
            done++;
            status.loading(`Registering… ${done} of ${lines.length}`);
          }
        };
        await Promise.all(Array.from({ length: 4 }, worker));
        submit.disabled = false;
        const ok = lines.length - refused.length;
        const said = `Registered ${ok} of ${lines.length} users.`;
        if (refused.length === 0) {
          status.ok(said);
          ids.control.value = '';
        } else {
          // The refused ids stay in the field, to be corrected and sent again.
          status.error(`${said} Refused: ${refused.map((r) => `${r.userId}: ${r.why}`).join('; ')}`);
          ids.control.value = refused.map((r) => r.userId).join('\n');
        }
        registered();
      },
    },
    ids.element,
    due.element,
    exempt.element,
    h('div', { class: 'actions' }, submit),
    status.element,
  );
  disclosure(opener, form, ids.control, 'Close');
  return { opener, form };
}

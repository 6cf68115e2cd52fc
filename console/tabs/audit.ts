import { type Schemas, type TfaClient } from '../../client/tfaClient.ts';
import { dataTable, field, h, shortTime, statusArea } from '../ui.ts';

/** Audit: one user's history, newest first, a page at a time. */
export function auditTab(api: TfaClient): HTMLElement {
  const user = field('User', h('input', { autocomplete: 'off', spellcheck: 'false' }));
  const status = statusArea();
  const { table, body } = dataTable('Audit events, newest first', [
    'When',
    'Action',
    'User',
    'Outcome',
    'By',
    'Reason',
  ]);
  table.hidden = true;
  table.classList.add('audit');
  const more = h('button', { type: 'button', class: 'secondary' }, 'More');
  more.hidden = true;
  let cursor: string | undefined;

  const load = async (next: boolean) => {
    status.loading();
    try {
      const userId = user.control.value.trim();
      const page = await api.audit({
        ...(userId ? { userId } : {}),
        limit: 25,
        ...(next && cursor ? { cursor } : {}),
      });
      if (!next) body.replaceChildren();
      page.events.forEach((event) => body.append(row(event)));
      cursor = page.nextCursor ?? undefined;
      more.hidden = cursor === undefined;
      table.hidden = false;
      if (body.children.length === 0) status.ok('No events.');
      else status.clear();
    } catch (error) {
      status.error(error);
    }
  };
  more.addEventListener('click', () => load(true));
  // The newest events of the tenant at once: the question is usually "what just happened?".
  void load(false);

  return h(
    'section',
    {},
    h('h2', {}, 'Audit'),
    h(
      'form',
      { onsubmit: (event) => (event.preventDefault(), void load(false)) },
      user.element,
      h('p', {}, 'Leave it empty for every event of the tenant.'),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Show')),
    ),
    status.element,
    table,
    more,
  );
}

const row = (e: Schemas['AuditEvent']) =>
  h(
    'tr',
    {},
    h('td', { class: 'when' }, shortTime(e.at)),
    h('td', {}, e.action),
    h('td', {}, e.userId ?? '—'),
    h('td', {}, e.outcome),
    h('td', {}, actorWords(e.actor)),
    h('td', {}, e.reason ?? ''),
  );

/** Who did it: a key by its name, or the operator. */
function actorWords(actor: Schemas['AuditEvent']['actor']): string {
  return actor.keyId === 'operator' ? 'by the operator' : `by key ${actor.name}`;
}

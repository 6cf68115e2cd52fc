import { EVENT_TYPES, type Schemas, type TfaClient } from '../../client/tfaClient.ts';
import { announce, dataTable, describe, disclosure, field, h, shortTime, statusArea } from '../ui.ts';

type Webhook = Schemas['Webhook'];

/**
 * Webhooks: the tenant's security-event endpoints with their status; Add Endpoint
 * (URL, Events) shows the signing secret once; each endpoint offers Send Test, Rotate
 * Secret, Pause or Resume, Delete, and its recent deliveries.
 */
export function webhooksTab(api: TfaClient): HTMLElement {
  const status = statusArea();
  const secretArea = h('div', { 'aria-live': 'polite' });
  const { table, body } = dataTable('Webhook endpoints', ['URL', 'Events', 'Status', 'Actions']);
  table.classList.add('webhooks');

  const load = async () => {
    try {
      const { webhooks } = await api.webhooks.list();
      body.replaceChildren(...webhooks.map((w) => row(w)));
      if (webhooks.length === 0) status.ok('No endpoints yet: Add Endpoint to receive security events.');
      else status.clear();
    } catch (error) {
      status.error(error);
    }
  };

  /** A secret, shown once, with a way to copy it; gone on the next action. */
  const showSecret = (what: string, secret: string) => {
    secretArea.replaceChildren(
      h(
        'div',
        { class: 'notice' },
        h('p', {}, `${what} Copy it now: it is not shown again.`),
        h('p', { class: 'key', 'data-testid': 'webhook-secret' }, secret),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => void navigator.clipboard?.writeText(secret).then(() => announce('Copied.')),
          },
          'Copy',
        ),
      ),
    );
  };

  const row = (w: Webhook, said = ''): HTMLTableRowElement => {
    const id = `webhook-${w.id}`;
    const note = h('span', { class: 'row-note', role: 'status' }, said);
    const act = (label: string, run: () => Promise<string>, kind = 'secondary') => {
      const button = h('button', { type: 'button', class: kind, 'aria-describedby': id }, label);
      button.addEventListener('click', async () => {
        try {
          note.textContent = await run();
        } catch (error) {
          note.textContent = describe(error);
        }
      });
      return button;
    };
    const deliveriesRow = h('tr', { class: 'row-form' });
    deliveriesRow.hidden = true;
    const buttons = [
      act('Send Test', async () => {
        const { messageId } = await api.webhooks.test(w.id);
        return `Test queued (${messageId}).`;
      }),
      act('Rotate Secret', async () => {
        const { secret } = await api.webhooks.rotateSecret(w.id);
        showSecret(`The new secret of ${w.url}; the old one signs beside it for 24 hours.`, secret);
        return 'Secret rotated.';
      }),
      ...(w.status === 'disabled'
        ? []
        : [
            act(w.status === 'paused' ? 'Resume' : 'Pause', async () => {
              const changed = await api.webhooks.change(w.id, {
                status: w.status === 'paused' ? 'active' : 'paused',
              });
              tr.replaceWith(row(changed, changed.status === 'paused' ? 'Paused.' : 'Resumed.'));
              deliveriesRow.remove();
              return '';
            }),
          ]),
      act(
        'Delete',
        async () => {
          await api.webhooks.delete(w.id);
          deliveriesRow.remove();
          tr.remove();
          status.ok(`Deleted the endpoint ${w.url}.`);
          return '';
        },
        'danger',
      ),
      act('Deliveries', async () => {
        const { deliveries } = await api.webhooks.deliveries(w.id, { limit: 10 });
        const list = dataTable(`Recent deliveries to ${w.url}`, [
          'Message',
          'Type',
          'Status',
          'Attempts',
          'Answer',
          'Last attempt',
        ]);
        list.body.replaceChildren(
          ...deliveries.map((d) =>
            h(
              'tr',
              {},
              h('td', {}, d.messageId),
              h('td', {}, d.type),
              h('td', {}, d.status),
              h('td', {}, String(d.attempts)),
              h('td', {}, d.responseStatus === null ? '—' : String(d.responseStatus)),
              h('td', {}, d.lastAttemptAt ? shortTime(d.lastAttemptAt) : '—'),
            ),
          ),
        );
        deliveriesRow.replaceChildren(
          h(
            'td',
            { colspan: '4' },
            deliveries.length === 0 ? h('p', {}, 'No deliveries in the last 7 days.') : list.table,
          ),
        );
        deliveriesRow.hidden = false;
        return '';
      }),
    ];
    const tr = h(
      'tr',
      {},
      h('th', { scope: 'row', id }, w.url),
      h('td', {}, w.events.includes('*') ? 'All events' : w.events.join(', ')),
      h('td', {}, w.status),
      h('td', {}, h('div', { class: 'row-actions' }, ...buttons, note)),
    );
    queueMicrotask(() => tr.after(deliveriesRow));
    return tr;
  };

  const add = addForm(api, (created) => {
    showSecret(`The signing secret of ${created.url}.`, created.secret);
    void load();
  });
  void load();
  return h(
    'section',
    {},
    h('h2', {}, 'Webhooks'),
    h(
      'p',
      {},
      'Security events (a user locked out, two-factor authentication removed, a recovery code used...) are sent to these HTTPS endpoints, signed per Standard Webhooks.',
    ),
    h('div', { class: 'actions' }, add.opener),
    add.form,
    secretArea,
    status.element,
    table,
  );
}

/** Add Endpoint: the URL and the events (all, or some of the catalogue). */
function addForm(api: TfaClient, added: (created: Schemas['CreatedWebhook']) => void) {
  const opener = h('button', { type: 'button', 'aria-expanded': 'false' }, 'Add Endpoint');
  const url = field(
    'URL',
    h('input', { type: 'url', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://' }),
  );
  const events = field('Events', h('select', { multiple: true, size: '8' }));
  events.control.append(
    h('option', { value: '*', selected: true }, 'All events'),
    ...EVENT_TYPES.map((type) => h('option', { value: type }, type)),
  );
  const description = field('Description (optional)', h('input', { autocomplete: 'off', maxlength: '256' }));
  const status = statusArea();
  const form = h(
    'form',
    {
      'aria-label': 'Add Endpoint',
      class: 'register',
      onsubmit: async (event) => {
        event.preventDefault();
        url.setError('');
        events.setError('');
        const chosen = [...events.control.selectedOptions].map((o) => o.value);
        if (chosen.length === 0) return events.setError('Choose the events to send, or All events.');
        try {
          const created = await api.webhooks.create({
            url: url.control.value.trim(),
            events: (chosen.includes('*') ? ['*'] : chosen) as Schemas['NewWebhook']['events'],
            ...(description.control.value ? { description: description.control.value } : {}),
          });
          shown.hide();
          url.control.value = '';
          status.clear();
          added(created);
        } catch (error) {
          // The service says what is wrong with the URL (https, where it resolves) or the events.
          const text = describe(error);
          if (/webhook_url|url/.test(text)) url.setError(text);
          else status.error(error);
        }
      },
    },
    url.element,
    events.element,
    description.element,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add')),
    status.element,
  );
  const shown = disclosure(opener, form, url.control, 'Cancel');
  return { opener, form };
}

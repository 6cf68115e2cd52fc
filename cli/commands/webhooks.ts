import { Command } from 'commander';
import type { Schemas } from '../../client/tfaClient.ts';
import { type Cli, integer, list } from '../common.ts';
import { fields, show, table } from '../output.ts';

type Webhook = Schemas['Webhook'];

const view = (w: Webhook) =>
  fields([
    ['id', w.id],
    ['url', w.url],
    ['events', w.events.join(', ')],
    ['description', w.description || '-'],
    ['status', w.status],
    ['created', w.createdAt],
  ]);

/** Said once, beside the secret: it is never shown again. */
const secretWarning = 'Keep this secret now: it is not shown again (tfa webhooks rotate gives a new one).';

/** `tfa webhooks ...`: the tenant's security-event endpoints (admin key; docs/webhooks.md). */
export function webhooksCommand(cli: Cli): Command {
  const webhooks = new Command('webhooks').description(
    "The tenant's security-event endpoints, signed per Standard Webhooks (admin key).",
  );

  webhooks
    .command('add')
    .description('Add an endpoint; its signing secret is shown only now.')
    .argument('<url>', 'https:// URL that receives the events')
    .option('--events <types>', 'comma-separated event types, or * for all', list, ['*'])
    .option('--description <text>', 'what it is for (at most 256 characters)')
    .action(async (url: string, options: { events: string[]; description?: string }) => {
      const created = await cli.client().webhooks.create({
        url,
        events: options.events as Schemas['NewWebhook']['events'],
        ...(options.description === undefined ? {} : { description: options.description }),
      });
      show(cli.output(), created, (w) => `${view(w)}\nsecret: ${w.secret}\n${secretWarning}`);
    });

  webhooks
    .command('list')
    .description('List the endpoints, oldest first; never a secret.')
    .action(async () => {
      show(cli.output(), await cli.client().webhooks.list(), ({ webhooks: all }) =>
        table(
          ['ID', 'STATUS', 'URL', 'EVENTS'],
          all.map((w) => [w.id, w.status, w.url, w.events.join(',')]),
        ),
      );
    });

  webhooks
    .command('show')
    .description('Show one endpoint.')
    .argument('<id>')
    .action(async (id: string) => {
      show(cli.output(), await cli.client().webhooks.show(id), view);
    });

  for (const [name, status, what] of [
    ['pause', 'paused', 'Pause deliveries to an endpoint: its events wait until it is resumed.'],
    ['resume', 'active', 'Resume deliveries to a paused endpoint.'],
  ] as const) {
    webhooks
      .command(name)
      .description(what)
      .argument('<id>')
      .action(async (id: string) => {
        show(cli.output(), await cli.client().webhooks.change(id, { status }), view);
      });
  }

  webhooks
    .command('delete')
    .description('Delete an endpoint: nothing more is sent to it.')
    .argument('<id>')
    .action(async (id: string) => {
      await cli.client().webhooks.delete(id);
      // The API answers 204 without a body; this is the CLI's own record of it.
      show(cli.output(), { id, deleted: true }, () => `Deleted webhook endpoint ${id}.`);
    });

  webhooks
    .command('rotate')
    .description('A new signing secret, shown only now; the old one signs beside it for 24 hours.')
    .argument('<id>')
    .action(async (id: string) => {
      show(
        cli.output(),
        await cli.client().webhooks.rotateSecret(id),
        (r) => `secret: ${r.secret}\n${secretWarning}`,
      );
    });

  webhooks
    .command('test')
    .description('Send a tfa.webhook.test event to the endpoint (it arrives within seconds).')
    .argument('<id>')
    .action(async (id: string) => {
      show(
        cli.output(),
        await cli.client().webhooks.test(id),
        (r) => `Queued ${r.messageId}: see tfa webhooks deliveries ${id}.`,
      );
    });

  webhooks
    .command('deliveries')
    .description("The endpoint's recent messages, newest first (kept 7 days).")
    .argument('<id>')
    .option('--limit <n>', 'how many (1 to 100)', integer, 20)
    .action(async (id: string, options: { limit: number }) => {
      show(
        cli.output(),
        await cli.client().webhooks.deliveries(id, { limit: options.limit }),
        ({ deliveries }) =>
          table(
            ['MESSAGE', 'TYPE', 'STATUS', 'ATTEMPTS', 'ANSWER', 'LAST ATTEMPT', 'NEXT ATTEMPT'],
            deliveries.map((d) => [
              d.messageId,
              d.type,
              d.status,
              d.attempts,
              d.responseStatus ?? '-',
              d.lastAttemptAt ?? '-',
              d.nextAttemptAt ?? '-',
            ]),
          ),
      );
    });

  webhooks
    .command('redeliver')
    .description('Send a message again now, with the same webhook-id (a receiver drops duplicates by it).')
    .argument('<id>')
    .argument('<messageId>')
    .action(async (id: string, messageId: string) => {
      show(
        cli.output(),
        await cli.client().webhooks.redeliver(id, messageId),
        (r) => `Queued ${r.messageId} again.`,
      );
    });

  return webhooks;
}

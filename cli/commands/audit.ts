import { Command } from 'commander';
import { allItems, type Schemas } from '../../client/tfaClient.ts';
import { type Cli, integer } from '../common.ts';
import { show, table } from '../output.ts';
import { more } from './tenants.ts';

const eventRows = (events: Schemas['AuditEvent'][]) =>
  table(
    ['AT', 'ACTION', 'USER', 'ACTOR', 'OUTCOME', 'REASON'],
    events.map((e) => [e.at, e.action, e.userId, e.actor.name, e.outcome, e.reason]),
  );

/** `tfa audit`: the tenant's audit trail, newest first (support key). */
export function auditCommand(cli: Cli): Command {
  return new Command('audit')
    .description("Show the tenant's audit events, newest first (support key).")
    .option('--user <userId>', "one user's history")
    .option('--limit <n>', 'events per page (1 to 100)', integer)
    .option('--cursor <cursor>', 'the page after a previous one')
    .option('--all', 'every page')
    .action(async (options: { user?: string; limit?: number; cursor?: string; all?: boolean }) => {
      const client = cli.client();
      const output = cli.output();
      const query = { ...(options.user === undefined ? {} : { userId: options.user }), limit: options.limit };
      if (options.all) {
        const events = await allItems(
          (cursor) => client.audit({ ...query, limit: options.limit ?? 100, cursor }),
          (page) => page.events,
        );
        show(output, { events }, (a) => eventRows(a.events));
        return;
      }
      const page = await client.audit({ ...query, cursor: options.cursor });
      show(output, page, (p) => eventRows(p.events) + more(p.nextCursor, 'tfa audit'));
    });
}

import { Command } from 'commander';
import { allItems, type Schemas } from '../../client/tfaClient.ts';
import { type Cli, integer, list } from '../common.ts';
import { fields, show, table } from '../output.ts';

const tenantRows = (tenants: Schemas['Tenant'][]) =>
  table(
    ['TENANT', 'ISSUER', 'POLICY', 'CREATED'],
    tenants.map((t) => [t.tenantId, t.issuer, t.policy, t.createdAt]),
  );

export const keyCreated = (key: Schemas['CreatedKey'], tenant?: string) =>
  [
    `Created key ${key.id} (${key.name}; ${key.scopes.join(', ')})${tenant ? ` for tenant ${tenant}` : ''}.`,
    `Secret, shown only now: ${key.secret}`,
  ].join('\n');

/** `tfa tenants ...`: the operator key's routes. */
export function tenantsCommand(cli: Cli): Command {
  const tenants = new Command('tenants').description('Create, list, read and delete tenants (operator key).');

  tenants
    .command('create')
    .description('Create a tenant and its bootstrap admin key.')
    .argument('<tenantId>', '1 to 63 characters of a-z 0-9 -')
    .option('--issuer <name>', 'the name authenticator apps show (the tenant id by default)')
    .action(async (tenantId: string, options: { issuer?: string }) => {
      const created = await cli.client().tenants.create({ tenantId, ...options });
      show(cli.output(), created, (t) =>
        [
          `Created tenant ${t.tenantId} (issuer ${t.issuer}).`,
          `Admin key ${t.apiKey.id}, shown only now: ${t.apiKey.secret}`,
        ].join('\n'),
      );
    });

  tenants
    .command('list')
    .description('List the live tenants in tenant-id order, a page at a time.')
    .option('--all', 'every page')
    .option('--limit <n>', 'tenants per page (1 to 100)', integer)
    .option('--cursor <cursor>', 'the page after a previous one')
    .action(async (options: { all?: boolean; limit?: number; cursor?: string }) => {
      const client = cli.client();
      const output = cli.output();
      if (options.all) {
        const all = await allItems(
          (cursor) => client.tenants.list({ limit: options.limit ?? 100, cursor }),
          (page) => page.tenants,
        );
        show(output, { tenants: all }, (t) => tenantRows(t.tenants));
        return;
      }
      const page = await client.tenants.list({ limit: options.limit, cursor: options.cursor });
      show(output, page, (p) => tenantRows(p.tenants) + more(p.nextCursor, 'tfa tenants list'));
    });

  tenants
    .command('show')
    .description('Read one tenant.')
    .argument('<tenantId>')
    .action(async (tenantId: string) => {
      const tenant = await cli.client().tenants.get(tenantId);
      show(cli.output(), tenant, (t) =>
        fields([
          ['tenant', t.tenantId],
          ['issuer', t.issuer],
          ['policy', t.policy],
          ['created', t.createdAt],
          ...(t.deleted ? ([['deleted', 'yes; its purge is running']] as [string, string][]) : []),
        ]),
      );
    });

  tenants
    .command('delete')
    .description('Delete a tenant: its keys stop at once, its secrets can never be opened again.')
    .argument('<tenantId>')
    .requiredOption('--reason <reason>', 'why, for the operator log (1 to 256 characters)')
    .action(async (tenantId: string, options: { reason: string }) => {
      const deleted = await cli.client().tenants.delete(tenantId, options.reason);
      show(
        cli.output(),
        deleted,
        (d) => `Deleted tenant ${d.tenantId}; its data is purged in the background.`,
      );
    });

  tenants
    .command('key')
    .description('Make a key for a tenant: the way back in for one that lost its admin keys.')
    .argument('<tenantId>')
    .requiredOption('--name <name>', 'what the key is for (1 to 64 characters)')
    .requiredOption('--scopes <scopes>', 'comma-separated: users, support, admin', list)
    .action(async (tenantId: string, options: { name: string; scopes: Schemas['Scope'][] }) => {
      const key = await cli.client().tenants.createKey(tenantId, options);
      show(cli.output(), key, (k) => keyCreated(k, tenantId));
    });

  return tenants;
}

/** The line that tells a person how to read the next page. */
export const more = (nextCursor: string | null, command: string) =>
  nextCursor === null ? '' : `\nMore: ${command} --cursor ${nextCursor}  (or --all)`;

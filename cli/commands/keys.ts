import { Command } from 'commander';
import type { Schemas } from '../../client/tfaClient.ts';
import { type Cli, list } from '../common.ts';
import { show, table } from '../output.ts';
import { keyCreated } from './tenants.ts';

/** `tfa keys ...`: the tenant's API keys (admin key). */
export function keysCommand(cli: Cli): Command {
  const keys = new Command('keys').description("Create, list and delete the tenant's API keys (admin key).");

  keys
    .command('create')
    .description('Create a key; its secret is shown only now.')
    .requiredOption('--name <name>', 'what the key is for (1 to 64 characters)')
    .requiredOption('--scopes <scopes>', 'comma-separated: users, support, admin', list)
    .action(async (options: { name: string; scopes: Schemas['Scope'][] }) => {
      const key = await cli.client().keys.create(options);
      show(cli.output(), key, (k) => keyCreated(k));
    });

  keys
    .command('list')
    .description('List the keys, oldest first; never a secret.')
    .action(async () => {
      const answer = await cli.client().keys.list();
      show(cli.output(), answer, ({ keys }) =>
        table(
          ['ID', 'NAME', 'SCOPES', 'CREATED'],
          keys.map((k) => [k.id, k.name, k.scopes.join(','), k.createdAt]),
        ),
      );
    });

  keys
    .command('delete')
    .description('Delete a key: it stops working at once. The last admin key cannot be deleted.')
    .argument('<id>')
    .action(async (id: string) => {
      await cli.client().keys.delete(id);
      // The API answers 204 without a body; this is the CLI's own record of it.
      show(cli.output(), { id, deleted: true }, () => `Deleted key ${id}.`);
    });

  return keys;
}

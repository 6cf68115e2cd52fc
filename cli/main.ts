import { Command, CommanderError } from 'commander';
import { TfaApiError, tfaClient } from '../client/tfaClient.ts';
import { auditCommand } from './commands/audit.ts';
import { importCommand } from './commands/import.ts';
import { keysCommand } from './commands/keys.ts';
import { webhooksCommand } from './commands/webhooks.ts';
import { reportCommand } from './commands/report.ts';
import { settingsCommand } from './commands/settings.ts';
import { tenantsCommand } from './commands/tenants.ts';
import { usersCommand } from './commands/users.ts';
import { type Cli, describeApiError, describeFailure, EXIT, Exit, UsageError } from './common.ts';
import { consoleOutput } from './output.ts';

interface GlobalOptions {
  url?: string;
  key?: string;
  json?: boolean;
}

export const DEFAULT_URL = 'http://127.0.0.1:3000';

export function program(env: NodeJS.ProcessEnv = process.env): Command {
  const root = new Command('tfa')
    .description('Support tool for the two-factor authentication service.')
    .option('--url <url>', `the service (default: env TFA_URL, else ${DEFAULT_URL})`)
    // Never a commander default: help would print the key.
    .option('--key <key>', 'the operator key or a tenant key (default: env TFA_KEY)')
    .option('--json', 'print exactly one JSON document on stdout')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  // Own properties only: where the key is sent must never come from an inherited value.
  const globals = (): GlobalOptions => {
    const options = root.opts<GlobalOptions>();
    const own = <K extends keyof GlobalOptions>(name: K) =>
      Object.hasOwn(options, name) ? options[name] : undefined;
    return { url: own('url'), key: own('key'), json: own('json') };
  };
  const cli: Cli = {
    client: () => {
      const options = globals();
      const url = options.url || env.TFA_URL || DEFAULT_URL;
      const key = options.key || env.TFA_KEY;
      if (!key) throw new UsageError('no key: set TFA_KEY or pass --key');
      return tfaClient({ url, key });
    },
    output: () => consoleOutput(globals().json === true),
  };

  for (const make of [
    tenantsCommand,
    settingsCommand,
    keysCommand,
    usersCommand,
    auditCommand,
    reportCommand,
    importCommand,
    webhooksCommand,
  ]) {
    root.addCommand(make(cli));
  }
  // Every subcommand refuses bad usage the same way: an exception main() maps to exit 2.
  const override = (command: Command) => {
    command.exitOverride().showHelpAfterError('(run with --help for usage)');
    command.commands.forEach(override);
  };
  root.commands.forEach(override);
  return root;
}

/** Runs one command line; answers the exit code. */
export async function main(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const output = consoleOutput(false);
  try {
    await program(env).parseAsync(args, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof Exit) return error.code;
    if (error instanceof CommanderError) {
      // Commander has printed its message (or the help) already.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        ? EXIT.ok
        : EXIT.usage;
    }
    if (error instanceof UsageError) {
      output.warn(`error: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof TfaApiError) {
      output.warn(describeApiError(error));
      return EXIT.refused;
    }
    output.warn(`error: ${describeFailure(error)}`);
    return EXIT.refused;
  }
}

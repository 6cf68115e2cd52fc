/**
 * Observes every call made by the service's AWS clients (DynamoDB now, KMS and SSM
 * when they are first created), through SDK middleware: the benchmark counts round
 * trips with it rather than assuming them.
 */
type Observer = (service: string, command: string) => void;

interface InstrumentableClient {
  middlewareStack: { add: (middleware: never, options: { step: 'initialize'; name: string }) => void };
}

export class AwsCalls {
  private readonly clients: InstrumentableClient[] = [];
  private readonly observers: Observer[] = [];

  /** Called by each adapter for each client it makes. */
  register = (client: InstrumentableClient): void => {
    this.clients.push(client);
    for (const observer of this.observers) attach(client, observer);
  };

  observe(observer: Observer): void {
    this.observers.push(observer);
    for (const client of this.clients) attach(client, observer);
  }
}

function attach(client: InstrumentableClient, observer: Observer) {
  const middleware =
    (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) =>
    (args: unknown) => {
      observer(context.clientName ?? 'unknown', context.commandName ?? 'unknown');
      return next(args);
    };
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: `observer${Math.random()}` });
}

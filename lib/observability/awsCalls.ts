/**
 * Observes every call an AWS client makes, through SDK middleware: the benchmark
 * counts round trips with it rather than assuming them.
 */
export type AwsCallObserver = (service: string, command: string) => void;

interface InstrumentableClient {
  middlewareStack: { add: (middleware: never, options: { step: 'initialize'; name: string }) => void };
}

export function observeAwsCalls(client: InstrumentableClient, observer: AwsCallObserver): void {
  const middleware =
    (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) =>
    (args: unknown) => {
      observer(context.clientName ?? 'unknown', context.commandName ?? 'unknown');
      return next(args);
    };
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'observeAwsCalls' });
}

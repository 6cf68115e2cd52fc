/**
 * Observes every call an AWS client makes, through SDK middleware: the benchmark
 * counts round trips and the capacity they consume with it rather than assuming them.
 */
export interface AwsCall {
  service: string;
  command: string;
  input: Record<string, unknown>;
  /** The answer, when the call succeeded. */
  output?: Record<string, unknown>;
}
export type AwsCallObserver = (call: AwsCall) => void;

interface InstrumentableClient {
  middlewareStack: { add: (middleware: never, options: { step: 'initialize'; name: string }) => void };
}

/**
 * An observed DynamoDB call also asks for the capacity it consumed (free, and only the
 * benchmark observes), so that what a call costs is the store's answer, not a guess.
 */
export function observeAwsCalls(client: InstrumentableClient, observer: AwsCallObserver): void {
  const middleware =
    (
      next: (args: { input: Record<string, unknown> }) => Promise<{ output?: Record<string, unknown> }>,
      context: { clientName?: string; commandName?: string },
    ) =>
    async (args: { input: Record<string, unknown> }) => {
      const service = context.clientName ?? 'unknown';
      const command = context.commandName ?? 'unknown';
      const input =
        service === 'DynamoDBClient' ? { ...args.input, ReturnConsumedCapacity: 'INDEXES' } : args.input;
      try {
        const result = await next({ ...args, input });
        observer({ service, command, input, ...(result.output ? { output: result.output } : {}) });
        return result;
      } catch (error) {
        observer({ service, command, input });
        throw error;
      }
    };
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'observeAwsCalls' });
}

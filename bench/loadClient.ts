/**
 * The HTTP load generator, run as its own process by bench.ts so that it does not
 * share the server's event loop: autocannon against the local server, each request
 * a verify with the code an authenticator would show at that (virtual) moment.
 * Input and output are JSON on stdin and stdout.
 */
import autocannon from 'autocannon';
import { codeFor } from '../test/support/otp.ts';
import { type SharedClock, virtualNow } from './clock.ts';

interface Input {
  url: string;
  key: string;
  users: { userId: string; secret: string }[];
  clock: SharedClock;
  connections: number;
  seconds: number;
}

const input = JSON.parse(await new Response(process.stdin as unknown as ReadableStream).text()) as Input;
let next = 0;
/** Every answer, by kind: a verify's `valid` or `reason`, or the HTTP status when it was no verdict. */
const answers: Record<string, number> = {};
const tally = (kind: string) => (answers[kind] = (answers[kind] ?? 0) + 1);

const result = await autocannon({
  url: input.url,
  connections: input.connections,
  duration: input.seconds,
  requests: [
    {
      method: 'POST',
      setupRequest: (request) => {
        const user = input.users[next++ % input.users.length] as { userId: string; secret: string };
        const code = codeFor({ secret: user.secret }, 0, virtualNow(input.clock));
        return {
          ...request,
          path: `/v1/users/${user.userId}/verify`,
          headers: { authorization: `Bearer ${input.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ code }),
        };
      },
      onResponse: (status: number, body: string) => {
        if (status !== 200) return tally(`http_${status}`);
        try {
          const verdict = JSON.parse(body) as { valid?: boolean; reason?: string };
          tally(verdict.valid === true ? 'valid' : (verdict.reason ?? 'unreadable'));
        } catch {
          tally('unreadable');
        }
      },
    },
  ],
});

process.stdout.write(
  JSON.stringify({
    connections: input.connections,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: result.requests.total,
    answers,
    // Every request carries the code an app shows at that moment, for a user whose
    // last step is older: anything but `valid` is a valid code not accepted, an error.
    errors:
      result.errors +
      result.timeouts +
      Object.values(answers).reduce((n, v) => n + v, 0) -
      (answers.valid ?? 0),
  }),
);

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { mismatch } from './contract.ts';

export type Received = { path: string; headers: Record<string, string>; body: string; at: number };

/**
 * A webhook receiver on 127.0.0.1 (real HTTP): it keeps every request, answers each
 * path as told (`answers`: the statuses in turn, the last one repeating; 204 by
 * default; 0 never answers), and verifies what it got as a receiver would, with the
 * `standardwebhooks` package and the contract's SecurityEvent schema.
 */
export async function startReceiver() {
  const received: Received[] = [];
  const answers = new Map<string, number[]>();
  const server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const path = request.url ?? '';
      received.push({ path, headers: request.headers as Record<string, string>, body, at: Date.now() });
      const queue = answers.get(path) ?? [204];
      const status = queue.length > 1 ? (queue.shift() as number) : (queue[0] as number);
      // 0: never answer (the sender times out, or dies waiting).
      if (status !== 0) response.writeHead(status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const at = (path: string) => received.filter((r) => r.path === path);

  return {
    base,
    received,
    answers,
    at,
    /** Waits (on the real clock: the dispatcher polls on it) until `count` requests reached `path`. */
    async until(path: string, count: number, seconds = 15) {
      const deadline = Date.now() + seconds * 1000;
      while (at(path).length < count) {
        if (Date.now() > deadline) assert.fail(`${path}: ${at(path).length} of ${count}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return at(path);
    },
    /** Each request to `path`, verified with `secret` and held to the contract: the events. */
    events(path: string, secret: string): VerifiedEvent[] {
      return at(path).map((got) => {
        const event = new Webhook(secret).verify(got.body, got.headers) as VerifiedEvent;
        assert.equal(mismatch('#/components/schemas/SecurityEvent', event), undefined, got.body);
        return { ...event, id: got.headers['webhook-id'] as string };
      });
    },
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

export interface VerifiedEvent {
  /** The `webhook-id`. */
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, any> & { userId: string | null };
}

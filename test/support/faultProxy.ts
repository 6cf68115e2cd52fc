import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';

/** What the proxy does to one request: the AWS JSON protocol's target, and the body. */
export type Fault =
  /** Forward it, let the store commit it, then cut the connection before the reply. */
  | 'drop-reply'
  /** Answer as a throttled AWS service would, without forwarding. */
  | 'throttle'
  /** Cut the connection at once, as an unreachable service. */
  | 'reset'
  /** Hold the request for this many milliseconds, then forward it. */
  | { delayMs: number }
  /** Hold the request until the promise settles, then forward it: a test orders writes with it. */
  | { holdUntil: Promise<unknown> };

export interface FaultRule {
  /** e.g. `DynamoDB_20120810.UpdateItem`, `TrentService.Decrypt`; before the API, `POST /v1/keys`. */
  target: string;
  /** Only requests whose body contains this text. */
  bodyIncludes?: string;
  fault: Fault;
  /** How many matching requests to fault (default: all). */
  times?: number;
}

/**
 * A proxy in front of an AWS-protocol endpoint that injects faults at the wire,
 * so the real SDK clients meet them exactly as they would in AWS; or in front of the
 * service itself, so that a client meets a reply lost after the service acted.
 */
export async function startFaultProxy(
  upstream: string,
  options: { returnItemOnConditionFailure?: boolean } = {},
) {
  const rules: FaultRule[] = [];
  const seen: { target: string; body: string; at: number; fault?: Fault }[] = [];
  const upstreamUrl = new URL(upstream);

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    // An AWS call is named by its target; any other request (the service's own API, when
    // the proxy stands between a client and the service) by its method and path.
    const target = String(
      req.headers['x-amz-target'] ?? `${req.method} ${new URL(req.url ?? '/', 'http://proxy').pathname}`,
    );
    const rule = rules.find(
      (r) =>
        r.target === target &&
        (r.bodyIncludes === undefined || body.toString().includes(r.bodyIncludes)) &&
        (r.times ?? 1) > 0,
    );
    if (rule && rule.times !== undefined) rule.times--;
    if (rule) injected++;
    seen.push({ target, body: body.toString(), at: Date.now(), ...(rule ? { fault: rule.fault } : {}) });
    settle(arrivals, target, body);
    const fault = rule?.fault;
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'throttle') {
      const type = target.startsWith('TrentService')
        ? 'ThrottlingException'
        : 'ProvisionedThroughputExceededException';
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'fault' });
      res.end(JSON.stringify({ __type: `com.amazonaws#${type}`, message: 'Rate exceeded (injected)' }));
      return;
    }
    if (typeof fault === 'object' && 'delayMs' in fault) {
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    }
    if (typeof fault === 'object' && 'holdUntil' in fault) await fault.holdUntil.catch(() => undefined);
    const forwarded = request(
      {
        host: upstreamUrl.hostname,
        port: upstreamUrl.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (upstreamRes) => {
        const reply: Buffer[] = [];
        upstreamRes.on('data', (chunk: Buffer) => reply.push(chunk));
        upstreamRes.on('end', async () => {
          if (fault === 'drop-reply') {
            req.socket.destroy();
            return;
          }
          let payload: Buffer = Buffer.concat(reply);
          if (options.returnItemOnConditionFailure) payload = await withItem(body, payload);
          // The body may have changed: its length and checksum are recomputed or dropped.
          const {
            'x-amz-crc32': _crc,
            'transfer-encoding': _chunked,
            ...upstreamHeaders
          } = upstreamRes.headers as Record<string, string>;
          const headers = { ...upstreamHeaders, 'content-length': String(payload.length) };
          res.writeHead(upstreamRes.statusCode ?? 500, headers);
          res.end(payload);
          settle(answers, target, body);
        });
      },
    );
    forwarded.on('error', () => req.socket.destroy());
    forwarded.end(body);
  });
  /**
   * DynamoDB answers a failed condition with the item when asked
   * (ReturnValuesOnConditionCheckFailure: ALL_OLD); dynalite does not. This adds it,
   * read from upstream, so the AWS path of our code is exercised too.
   */
  async function withItem(request: Buffer, payload: Buffer): Promise<Buffer> {
    const error = JSON.parse(payload.toString() || '{}');
    const input = JSON.parse(request.toString() || '{}');
    if (!String(error.__type ?? '').endsWith('ConditionalCheckFailedException')) return payload;
    if (input.ReturnValuesOnConditionCheckFailure !== 'ALL_OLD') return payload;
    if (error.Item) return payload; // the store sent it itself (DynamoDB Local)
    const got = await fetch(upstream, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.GetItem',
        'x-amz-date': '20260101T000000Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
      },
      body: JSON.stringify({ TableName: input.TableName, Key: input.Key, ConsistentRead: true }),
    });
    const item = (await got.json()) as { Item?: unknown };
    itemsReturned++;
    return Buffer.from(JSON.stringify({ ...error, ...(item.Item ? { Item: item.Item } : {}) }));
  }
  let itemsReturned = 0;
  let injected = 0;
  type Waiter = { target: string; bodyIncludes?: string; left: number; resolve: () => void };
  const arrivals: Waiter[] = [];
  const answers: Waiter[] = [];
  function settle(waiters: Waiter[], target: string, body: Buffer) {
    for (const waiter of [...waiters]) {
      if (waiter.target !== target) continue;
      if (waiter.bodyIncludes !== undefined && !body.toString().includes(waiter.bodyIncludes)) continue;
      if (--waiter.left > 0) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
  const waitFor = (waiters: Waiter[], match: { target: string; bodyIncludes?: string }, count: number) =>
    new Promise<void>((resolve) => waiters.push({ ...match, left: count, resolve }));

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const proxy = {
    itemsReturned: () => itemsReturned,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rules,
    seen,
    add(rule: FaultRule) {
      rules.push(rule);
    },
    /** Forgets the rules and what was seen: each test starts from a clean slate. */
    clear() {
      rules.length = 0;
      seen.length = 0;
    },
    faulted: () => seen.filter((s) => s.fault !== undefined).length,
    /**
     * Resolves once the upstream store has answered `count` more requests that match,
     * and their replies were passed on: "the store has judged these writes".
     */
    answered: (match: { target: string; bodyIncludes?: string }, count: number) =>
      waitFor(answers, match, count),
    /** Resolves once `count` more requests that match have reached the proxy. */
    arrived: (match: { target: string; bodyIncludes?: string }, count = 1) => waitFor(arrivals, match, count),
    /** Faults injected since the proxy started, across clear(). */
    injected: () => injected,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  after(() => proxy.close());
  return proxy;
}

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { Event, Result } from '../http/types.ts';
import { matchRoute, type RouteDeclaration } from './routes.ts';

type Handler = (event: Event, context: Context) => Promise<Result>;

// API Gateway refuses payloads over 10 MB. Local mode keeps no more than one byte
// past the largest limit a handler has (1 MiB, the import): enough for the handler
// to refuse the body as `400 invalid_request`, whatever its size.
const MAX_READ_BYTES = 1024 * 1024 + 1;

/**
 * Serves the routes of serverless.yml on 127.0.0.1 by turning each request into an
 * API Gateway HTTP API (payload 2.0) event for the same handler that runs in Lambda.
 */
export async function startHttpServer(routes: RouteDeclaration[], root: string, port: number) {
  const handlers = new Map<string, Handler>();
  for (const route of routes) {
    if (handlers.has(route.handler)) continue;
    const [file = '', exported = 'handler'] = splitHandler(route.handler);
    const module = (await import(pathToFileURL(`${root}/${file}.ts`).href)) as Record<string, Handler>;
    const handler = module[exported];
    if (typeof handler !== 'function') throw new Error(`${route.handler} is not a function`);
    handlers.set(route.handler, handler);
  }

  const server: Server = createServer((req, res) => {
    serve(req, res, routes, handlers).catch((error: unknown) => {
      console.error(
        JSON.stringify({ level: 'error', message: 'local server failure', error: String(error) }),
      );
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'internal_error', message: 'an internal error occurred' } }));
    });
  });
  // Above the idle time of common client pools (undici 4 s, Node's agent 5 s, the AWS
  // SDK's and browsers' longer): a server that closes first makes a client's next
  // request on that connection fail with "other side closed". The headers timeout
  // must stay above it.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const splitHandler = (handler: string) => {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
};

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  routes: RouteDeclaration[],
  handlers: Map<string, Handler>,
) {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  // The path as sent, as API Gateway delivers it: a URL parser would resolve `.` and
  // `..` (and their escapes) and route a request somewhere it was not sent.
  const rawPath = (req.url ?? '/').split('?')[0] || '/';
  const method = (req.method ?? 'GET').toUpperCase();
  const match = matchRoute(routes, method, rawPath);
  const body = await readBody(req);
  if (!match) throw new Error('serverless.yml declares no $default route');
  const handler = handlers.get(match.route.handler) as Handler;
  const event = toEvent(req, url, rawPath, method, match.route.routeKey, match.pathParameters, body);
  const started = Date.now();
  const context = {
    awsRequestId: randomUUID(),
    functionName: match.route.functionName,
    // As long as the function has in Lambda: the handler's deadline (lib/http/deadline.ts) runs on it.
    getRemainingTimeInMillis: () => match.route.timeoutSeconds * 1000 - (Date.now() - started),
  } as unknown as Context;
  send(res, await handler(event, context));
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  rawPath: string,
  method: string,
  routeKey: string,
  pathParameters: Record<string, string>,
  body: Buffer,
): Event {
  // Names come from the request: objects without a prototype keep `__proto__` as data.
  const headers: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = Object.create(null);
  for (const [name, value] of url.searchParams)
    query[name] = Object.hasOwn(query, name) ? `${query[name]},${value}` : value;
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    ...bodyFields(body),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

/** As API Gateway does: text bodies as they are, anything that is not UTF-8 in base64. */
function bodyFields(body: Buffer): Pick<Event, 'body' | 'isBase64Encoded'> {
  if (body.length === 0) return { isBase64Encoded: false };
  try {
    return { body: new TextDecoder('utf-8', { fatal: true }).decode(body), isBase64Encoded: false };
  } catch {
    return { body: body.toString('base64'), isBase64Encoded: true };
  }
}

/** The body's first MAX_READ_BYTES; the rest is read and dropped, so the client gets its answer. */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    if (size >= MAX_READ_BYTES) continue;
    const part = (chunk as Buffer).subarray(0, MAX_READ_BYTES - size);
    chunks.push(part);
    size += part.length;
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, result: Result) {
  // Names come from the request: objects without a prototype keep `__proto__` as data.
  const headers: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  const body = result.isBase64Encoded
    ? Buffer.from(result.body ?? '', 'base64')
    : Buffer.from(result.body ?? '');
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(body);
}

import { Resolver } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { forbiddenAddress } from './addresses.ts';

/**
 * The one way out of the service to a webhook endpoint. Each send resolves the name
 * again, refuses it if any address it resolves to is inside (addresses.ts), then
 * connects to the address it vetted, while TLS still checks the certificate against
 * the name. No redirect is followed, the whole exchange has 15 s, and at most 64 KiB
 * of the answer is read.
 */
export interface OutboundOptions {
  /** Local mode only: http://127.0.0.1 and http://localhost, for a receiver on this machine. */
  allowLoopback: boolean;
  /** DNS servers (`host[:port]`); the system's by default. */
  dnsServers?: string[];
  timeoutMs?: number;
}

export type Vetted =
  { ok: true; url: URL; address: string; family: 4 | 6 } | { ok: false; problem: string; retry: boolean };

export const MAX_URL_LENGTH = 2048;
const MAX_ANSWER_BYTES = 64 * 1024;
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost']);

/** The URL's shape alone: what registration checks before resolving. */
export function urlProblem(text: string, allowLoopback: boolean): string | undefined {
  if (text.length > MAX_URL_LENGTH) return `url must be at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'url must be an absolute https:// URL';
  }
  const loopbackHttp = allowLoopback && url.protocol === 'http:' && LOOPBACK_NAMES.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) return 'url must be an https:// URL';
  if (url.username || url.password) return 'url must not carry a user name or password';
  if (url.hash) return 'url must not carry a #fragment';
  return undefined;
}

/** Resolves the URL's host and judges every address it has now. */
export async function vet(text: string, options: OutboundOptions): Promise<Vetted> {
  const problem = urlProblem(text, options.allowLoopback);
  if (problem) return { ok: false, problem, retry: false };
  const url = new URL(text);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopbackAllowed = options.allowLoopback && LOOPBACK_NAMES.has(host);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else if (loopbackAllowed) addresses = ['127.0.0.1'];
  else {
    const resolver = new Resolver({ timeout: 3000, tries: 2 });
    if (options.dnsServers?.length) resolver.setServers(options.dnsServers);
    const [v4, v6] = await Promise.all([
      resolver.resolve4(host).catch(() => [] as string[]),
      resolver.resolve6(host).catch(() => [] as string[]),
    ]);
    addresses = [...v4, ...v6];
    if (addresses.length === 0) return { ok: false, problem: `${host} does not resolve`, retry: true };
  }
  if (!loopbackAllowed) {
    for (const address of addresses) {
      const inside = forbiddenAddress(address);
      if (inside) {
        return {
          ok: false,
          problem: `${host} resolves to a ${inside} address, which is refused`,
          retry: false,
        };
      }
    }
  }
  const address = addresses[0] as string;
  return { ok: true, url, address, family: isIP(address) === 6 ? 6 : 4 };
}

export type SendResult =
  | { delivered: true; status: number }
  | { delivered: false; status: number | null; error: string; gone: boolean };

/** POSTs `body` with `headers` to the endpoint, judged again now. */
export async function send(
  target: string,
  headers: Record<string, string>,
  body: string,
  options: OutboundOptions,
): Promise<SendResult> {
  const vetted = await vet(target, options);
  if (!vetted.ok) return { delivered: false, status: null, error: vetted.problem, gone: false };
  const { url, address, family } = vetted;
  // The socket goes to the address vetted above, never to a second resolution.
  // Node asks for every address (`all`) when it may try several families in turn.
  const lookup = ((
    _host: string,
    lookupOptions: { all?: boolean },
    callback: (...args: unknown[]) => void,
  ) => {
    if (lookupOptions.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const outgoing = request(
        url,
        {
          method: 'POST',
          lookup,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
          agent: false,
        },
        (answer: IncomingMessage) => {
          let read = 0;
          answer.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > MAX_ANSWER_BYTES) answer.destroy();
          });
          answer.on('close', () => resolve(answer.statusCode ?? 0));
          answer.on('error', () => resolve(answer.statusCode ?? 0));
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
    if (status >= 200 && status < 300) return { delivered: true, status };
    return { delivered: false, status, error: `answered ${status}`, gone: status === 410 };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
    const reason = timedOut ? 'no answer in time' : describe(error);
    return { delivered: false, status: null, error: reason, gone: false };
  }
}

/** A connection failure in words, without anything the endpoint sent. */
function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  return code ? `connection failed (${code})` : 'connection failed';
}

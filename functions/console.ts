import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noSuchRoute } from '../lib/errors.ts';
import { api, publicRoute } from '../lib/http/api.ts';
import type { Event } from '../lib/http/types.ts';

// The browser console (console/, built by Vite into console/dist), served on the
// API's own origin so it calls the API with no CORS. The page's policy lets it load
// only its own files and call only this origin: no inline script, no framing.
const DIST = fileURLToPath(new URL('../console/dist/', import.meta.url));
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
};

async function serve(event: Event) {
  const file = event.pathParameters?.file ?? 'index.html';
  const extension = /^[\w.-]+\.(\w+)$/.exec(file)?.[1];
  const type = extension === undefined ? undefined : TYPES[extension];
  if (type === undefined || file.startsWith('.')) throw noSuchRoute();
  let body: Buffer;
  try {
    body = await readFile(join(DIST, file));
  } catch {
    throw noSuchRoute();
  }
  const text = type.startsWith('text/') || type === 'image/svg+xml';
  return {
    statusCode: 200,
    headers: {
      'content-type': type,
      'content-security-policy': CONSOLE_CSP,
      // Vite names assets by their content: they never change. The page itself may.
      'cache-control': file === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
    },
    body: text ? body.toString('utf8') : body.toString('base64'),
    ...(text ? {} : { isBase64Encoded: true }),
  };
}

export const handler = api({
  'GET /console': publicRoute(serve),
  'GET /console/{file}': publicRoute(serve),
});

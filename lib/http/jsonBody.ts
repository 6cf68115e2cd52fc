import type { MiddlewareObj } from '@middy/core';
import { invalidRequest } from '../errors.ts';
import type { ApiContext, Event, Result } from './types.ts';

export const MAX_BODY_BYTES = 16 * 1024;
export const MAX_IMPORT_BODY_BYTES = 1024 * 1024;

const sizeOf = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes / 1024} KiB`;

/**
 * Parses the body as a JSON object, within 16 KiB. Our own rather than
 * @middy/http-json-body-parser, which answers a malformed body with 415 where the
 * contract wants `400 invalid_request`, and matches the content type case-sensitively.
 */
export const jsonBody = (
  maxBodyBytes: (routeKey: string) => number | undefined,
): MiddlewareObj<Event, Result, Error, ApiContext> => ({
  before: (request) => {
    // A public route (health, and `$default`'s 404) reads no body: an unknown path
    // answers 404 whatever is sent to it.
    const limit = maxBodyBytes(request.event.routeKey);
    if (limit === undefined) return;
    const { body, isBase64Encoded } = request.event;
    if (body === undefined || body === null || body === '') return;
    const raw = isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
    if (raw.length > limit) throw invalidRequest(`the body is larger than ${sizeOf(limit)}`);
    const type = request.event.headers?.['content-type'];
    if (type !== undefined && !/^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i.test(type)) {
      throw invalidRequest('content-type must be application/json');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
    } catch {
      throw invalidRequest('the body is not valid UTF-8 JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw invalidRequest('the body must be a JSON object');
    }
    request.context.api.body = parsed as Record<string, unknown>;
  },
});

import type { MiddlewareObj } from '@middy/core';
import { keyMatches, operatorKeyMatches, parseApiKey } from '../apiKeys.ts';
import type { Deps } from '../deps.ts';
import { isUserId } from '../domain/identifiers.ts';
import { ApiError, forbidden, unauthorized } from '../errors.ts';
import type { Access, ApiContext, Event, Result } from './types.ts';

/**
 * Checks the bearer key against the route's access rule. A tenant key is read on
 * every request, never cached, so a deleted key stops working at once; the read
 * also fetches the tenant and the user named in the path, in one round trip.
 */
export const authenticate = (
  accessFor: (routeKey: string) => Access | undefined,
  deps: () => Deps,
): MiddlewareObj<Event, Result, Error, ApiContext> => ({
  before: async (request) => {
    const { event, context } = request;
    const access = accessFor(event.routeKey);
    if (access === undefined) throw new ApiError(404, 'not_found', 'no such route');
    if (access === 'public') {
      context.api.caller = { kind: 'anonymous' };
      return;
    }
    const token = bearerToken(event.headers?.authorization);
    if (token === undefined) throw unauthorized();
    const { operatorKeyHash, store } = deps();
    if (operatorKeyMatches(token, operatorKeyHash)) {
      if (access !== 'operator') throw forbidden();
      context.api.caller = { kind: 'operator' };
      return;
    }
    const parsed = parseApiKey(token);
    if (parsed === undefined) throw unauthorized();
    const userId = event.pathParameters?.userId;
    const readUser = userId !== undefined && isUserId(userId);
    const loaded = await store.loadContext({
      tenantId: parsed.tenantId,
      keyId: parsed.keyId,
      ...(readUser ? { userId } : {}),
    });
    if (!loaded.key || !loaded.tenant || !keyMatches(loaded.key, parsed.secret)) throw unauthorized();
    if (
      access === 'operator' ||
      !loaded.key.scopes.some((scope) => scope === 'admin' || access.includes(scope))
    ) {
      throw forbidden();
    }
    // Only now, for an authorised caller, is a malformed user id worth an answer.
    if (userId !== undefined && !readUser) {
      throw new ApiError(
        400,
        'invalid_user_id',
        'userId must be 1 to 128 characters of A-Z a-z 0-9 . _ @ + -',
      );
    }
    context.api.caller = { kind: 'tenant', tenant: loaded.tenant, key: loaded.key };
    if (loaded.user) context.api.user = loaded.user;
  },
});

function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  return match?.[1];
}

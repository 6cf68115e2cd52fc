import type { MiddlewareObj } from '@middy/core';
import { keyMatches, operatorKeyMatches, parseApiKey } from '../crypto/apiKeys.ts';
import type { Deps } from '../deps.ts';
import { isUserId } from '../domain/identifiers.ts';
import { forbidden, invalidUserId, noSuchRoute, serviceUnavailable, unauthorized } from '../errors.ts';
import type { OperatorKeySource } from '../crypto/operatorKey.ts';
import type { ApiKeyRecord, Scope, TenantRecord } from '../domain/records.ts';
import type { Access, ApiContext, Event, Result } from './types.ts';

/**
 * Checks the bearer key against the route's access rule. A tenant key is read on
 * every request, never cached, so a deleted key stops working at once; the read
 * also fetches the tenant and the user named in the path, in one round trip.
 */
export const authenticate = (
  accessFor: (routeKey: string) => Access | undefined,
  deps: (state: ApiContext['api']) => Deps,
): MiddlewareObj<Event, Result, Error, ApiContext> => ({
  before: async (request) => {
    const { event, context } = request;
    const access = accessFor(event.routeKey);
    if (access === undefined) throw noSuchRoute();
    if (access === 'public') {
      context.api.caller = { kind: 'anonymous' };
      return;
    }
    const header = event.headers?.authorization;
    if (header === undefined || header.trim() === '') throw unauthorized('missing');
    const token = bearerToken(header);
    if (token === undefined) throw unauthorized('malformed');
    const { operatorKey, store } = deps(context.api);
    const parsed = parseApiKey(token);
    if (parsed === undefined) {
      // Not a tenant key: it may be the operator's, which may only create and read tenants.
      if (!operatorKeyMatches(token, await expectedOperatorHash(operatorKey, access))) throw unauthorized();
      if (access !== 'operator') throw forbidden('tenant');
      context.api.caller = { kind: 'operator' };
      return;
    }
    const userId = event.pathParameters?.userId;
    const readUser = userId !== undefined && isUserId(userId);
    const loaded = await store.loadContext({
      tenantId: parsed.tenantId,
      keyId: parsed.keyId,
      ...(readUser ? { userId } : {}),
    });
    const { key, tenant } = loaded;
    // A deleted tenant's keys stop at once: its item is read here on every request.
    if (!key || !tenant || tenant.deletedAt !== undefined || !keyMatches(key, parsed.secret)) {
      throw unauthorized();
    }
    const scopes = effectiveScopes(tenant, key);
    if (access === 'operator') throw forbidden('operator');
    if (!(scopes.includes('admin') || scopes.some((s) => access.includes(s)))) {
      throw forbidden(access.filter((s) => s !== 'admin'));
    }
    // Only now, for an authorised caller, is a malformed user id worth an answer.
    if (userId !== undefined && !readUser) {
      throw invalidUserId();
    }
    context.api.caller = { kind: 'tenant', tenant, key };
    if (loaded.user) context.api.user = loaded.user;
  },
});

function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  return match?.[1];
}

/**
 * Where the operator key cannot be read (SSM down), an operator route is
 * unavailable; any other route goes on, and the token is just not a key it knows.
 */
async function expectedOperatorHash(source: OperatorKeySource, access: Access): Promise<Buffer | undefined> {
  try {
    return await source.hash();
  } catch (error) {
    if (access === 'operator') throw serviceUnavailable('the operator key store', error);
    return undefined;
  }
}

/** A key's scopes as they count: admin only while the tenant names the key among its admin keys (records.ts). */
export const effectiveScopes = (tenant: TenantRecord, key: ApiKeyRecord): Scope[] =>
  key.scopes.filter((scope) => scope !== 'admin' || (tenant.adminKeyIds?.includes(key.id) ?? true));

/** Support and admin keys see what only staff may (the clock-skew hint); a `users` key does not. */
export const isStaff = (tenant: TenantRecord, key: ApiKeyRecord): boolean =>
  effectiveScopes(tenant, key).some((scope) => scope === 'support' || scope === 'admin');

import { MAX_IMPORT_LOGINS } from '../domain/cpanel.ts';
import { IMPORT_FORMATS, isImportFormat } from '../domain/imports/formats.ts';
import { InvalidSource } from '../domain/imports/sourceLogins.ts';
import { toSeconds } from '../domain/enrolment.ts';
import { isIssuer, isPrintable, isTenantId, isUserId, isUtcTimestamp } from '../domain/identifiers.ts';
import { own } from '../domain/untrusted.ts';
import { SCOPES, type Scope } from '../domain/records.ts';
import { isEventType, type WebhookStatus } from '../domain/webhooks.ts';
import {
  invalidIssuer,
  invalidRequest,
  invalidSource,
  invalidTenantId,
  invalidUserId,
  invalidWebhook,
  noSuchRoute,
} from '../errors.ts';
import type { Registering } from '../store/port.ts';
import type { AuditQuery } from '../usecases/audit.ts';
import type { LoginImport } from '../usecases/importLogins.ts';
import type { NewKey } from '../usecases/keys.ts';
import { USER_FILTERS, type UserFilter, type UserListQuery } from '../usecases/list.ts';
import type { SetupRequest } from '../usecases/setup.ts';
import type { VerifyRequest } from '../usecases/verify.ts';
import type { NewWebhook, WebhookChange } from '../usecases/webhooks.ts';
import type { NewTenant, TenantListQuery } from '../usecases/tenants.ts';
import type { RawBody, RawQuery } from './types.ts';

/**
 * The input of every route, parsed and checked at the edge (named in each route's
 * declaration in functions/), so a use case receives typed values. A wrong type is
 * `400 invalid_request` naming the field; unknown fields are ignored (but for a
 * registration, whose fields change a deadline: a misspelt one is refused). Fields are read
 * as the body's own properties only (lib/domain/untrusted.ts).
 */

/** For a route that takes no body, or no query. */
export const none = (): undefined => undefined;

function optionalString(body: RawBody, field: string): string | undefined {
  const value = own(body, field);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidRequest(`${field} must be a string`);
  return value;
}

function requiredString(body: RawBody, field: string): string {
  const value = optionalString(body, field);
  if (value === undefined) throw invalidRequest(`${field} is required`);
  return value;
}

function optionalBoolean(body: RawBody, field: string): boolean | undefined {
  const value = own(body, field);
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalidRequest(`${field} must be true or false`);
  return value;
}

/** `?limit=` of a listing: 1 to 100, default 50. */
function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return 50;
  if (!/^[0-9]{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > 100) {
    throw invalidRequest('limit must be an integer from 1 to 100');
  }
  return Number(raw);
}

/** confirm: `{"code"}`; its shape is checked against the enrolment's digits later. */
export const codeBody = (body: RawBody) => ({ code: requiredString(body, 'code') });

export function setupBody(body: RawBody): SetupRequest {
  const accountName = optionalString(body, 'accountName');
  // The Key URI Format forbids ":" in the account name: it separates it from the issuer.
  if (
    accountName !== undefined &&
    (accountName.length === 0 || !isPrintable(accountName, 128) || accountName.includes(':'))
  ) {
    throw invalidRequest('accountName must be 1 to 128 printable characters without ":"');
  }
  const label = optionalLabel(body);
  const reconfigure = optionalBoolean(body, 'reconfigure') ?? false;
  const add = optionalBoolean(body, 'add') ?? false;
  const replace = optionalNullableString(body, 'replace');
  if ([reconfigure, add, replace !== undefined].filter(Boolean).length > 1) {
    throw invalidRequest('give at most one of reconfigure, add and replace');
  }
  return { accountName, label, reconfigure, add, replace };
}

/** `replace`: an authenticator id, or null (the same as absent). */
function optionalNullableString(body: RawBody, field: string): string | undefined {
  return own(body, field) === null ? undefined : optionalString(body, field);
}

/** An authenticator's label: 1 to 64 printable characters. */
function optionalLabel(body: RawBody): string | undefined {
  const label = optionalString(body, 'label');
  if (label !== undefined && (label.length === 0 || !isPrintable(label, 64))) {
    throw invalidRequest('label must be 1 to 64 printable characters');
  }
  return label;
}

/** verify: `{"code", "authenticatorId"?}`. */
export const verifyBody = (body: RawBody): VerifyRequest => ({
  code: requiredString(body, 'code'),
  authenticatorId: optionalString(body, 'authenticatorId'),
});

/** PATCH an authenticator: `{"label"}`. */
export function labelBody(body: RawBody): { label: string } {
  const label = optionalLabel(body);
  if (label === undefined) throw invalidRequest('label is required');
  return { label };
}

/** `{"reason"}`, optional, for a removal: it goes into the audit trail. */
/** DELETE /v1/users/{userId}: an optional reason, and `forget` to end the registration too. */
export function removeBody(body: RawBody): { reason: string | undefined; forget: boolean } {
  return { ...reasonBody(body), forget: optionalBoolean(body, 'forget') ?? false };
}

/**
 * PUT /v1/users/{userId}: `dueAt` (an ISO 8601 UTC timestamp, kept to the second, or
 * null) and `exempt`, each optional; any other field is refused, not ignored.
 */
export function registerBody(body: RawBody): Registering {
  for (const field of Object.keys(body ?? {})) {
    if (field !== 'dueAt' && field !== 'exempt') {
      throw invalidRequest(`${field} is not a registration field: dueAt and exempt are`);
    }
  }
  const change: Registering = {};
  const dueAt = own(body, 'dueAt');
  if (dueAt === null) change.dueAt = null;
  else if (dueAt !== undefined) {
    if (!isUtcTimestamp(dueAt)) {
      throw invalidRequest('dueAt must be an ISO 8601 UTC timestamp (2027-01-31T00:00:00Z) or null');
    }
    change.dueAt = toSeconds(Date.parse(dueAt));
  }
  const exempt = optionalBoolean(body, 'exempt');
  if (exempt !== undefined) change.exempt = exempt;
  return change;
}

export function reasonBody(body: RawBody): { reason: string | undefined } {
  const reason = optionalString(body, 'reason');
  if (reason !== undefined && !isPrintable(reason, 256)) {
    throw invalidRequest('reason must be at most 256 printable characters');
  }
  return { reason };
}

export function keyBody(body: RawBody): NewKey {
  const name = own(body, 'name');
  if (typeof name !== 'string') throw invalidRequest('name is required and must be a string');
  if (name.length === 0 || !isPrintable(name, 64)) {
    throw invalidRequest('name must be 1 to 64 printable characters');
  }
  const scopes = own(body, 'scopes');
  if (!Array.isArray(scopes) || scopes.length === 0) throw invalidRequest('scopes must be a non-empty array');
  const known = (scope: unknown): scope is Scope => SCOPES.includes(scope as Scope);
  if (!scopes.every(known)) throw invalidRequest(`scopes may hold only ${SCOPES.join(', ')}`);
  return { name, scopes: [...new Set(scopes)] };
}

/** POST /v1/webhooks: `url` and `events` are required. */
export function newWebhookBody(body: RawBody): NewWebhook {
  const { url, events, ...rest } = webhookBody(body, true);
  if (url === undefined) throw invalidRequest('url is required');
  if (events === undefined) throw invalidRequest('events is required');
  return { ...rest, url, events };
}

/**
 * PATCH /v1/webhooks/{id} (and a create's fields): the URL is a string here (its
 * rules, and where it resolves, are the use case's), `events` the catalogue's types or
 * `*`, `status` active or paused.
 */
export function webhookBody(body: RawBody, creating = false): WebhookChange {
  if (body === undefined) throw invalidRequest('a JSON object is required');
  const change: WebhookChange = {};
  const url = optionalString(body, 'url');
  if (url !== undefined) change.url = url;
  const events = own(body, 'events');
  if (events !== undefined) {
    if (!Array.isArray(events) || events.length === 0 || events.length > 32) {
      throw invalidWebhook('events must be a non-empty list of event types, or ["*"]');
    }
    const all = events.length === 1 && events[0] === '*';
    const unknown = events.find((e) => !isEventType(e));
    if (!all && unknown !== undefined) {
      throw invalidWebhook(`events: ${JSON.stringify(unknown).slice(0, 80)} is not an event type`);
    }
    change.events = [...new Set(events as string[])];
  }
  const description = optionalString(body, 'description');
  if (description !== undefined) {
    if (!isPrintable(description, 256) && description !== '') {
      throw invalidRequest('description must be at most 256 printable characters');
    }
    change.description = description;
  }
  if (!creating) {
    const status = optionalString(body, 'status');
    if (status !== undefined) {
      if (status !== 'active' && status !== 'paused') throw invalidRequest('status must be active or paused');
      change.status = status satisfies WebhookStatus;
    }
  }
  return change;
}

/** PATCH /v1/settings: an object; its fields are judged by the settings rules (lib/domain/settings.ts). */
export function settingsBody(body: RawBody): Record<string, unknown> {
  if (body === undefined) throw invalidRequest('a JSON object of settings is required');
  return body;
}

/** DELETE /v1/tenants/{tenantId}: the operator's reason is required, and logged. */
export function deletionBody(body: RawBody): { reason: string } {
  const reason = requiredString(body, 'reason');
  if (reason.length === 0 || !isPrintable(reason, 256)) {
    throw invalidRequest('reason must be 1 to 256 printable characters');
  }
  return { reason };
}

/** `?limit=&cursor=` of a listing that takes nothing else. */
export const pageQuery = (query: RawQuery) => ({ limit: parseLimit(query.limit), cursor: query.cursor });

export function tenantListQuery(query: RawQuery): TenantListQuery {
  return { limit: parseLimit(query.limit), cursor: query.cursor };
}

export function tenantBody(body: RawBody): NewTenant {
  const tenantId = own(body, 'tenantId');
  if (typeof tenantId !== 'string') throw invalidRequest('tenantId is required and must be a string');
  if (!isTenantId(tenantId)) throw invalidTenantId();
  return { tenantId, issuer: own(body, 'issuer') };
}

export function listQuery(query: RawQuery): UserListQuery {
  const limit = parseLimit(query.limit);
  const { status } = query;
  const isFilter = (value: string): value is UserFilter =>
    (USER_FILTERS as readonly string[]).includes(value);
  if (status !== undefined && !isFilter(status)) {
    throw invalidRequest(`status must be one of ${USER_FILTERS.join(', ')}`);
  }
  return { limit, status, cursor: query.cursor };
}

export function auditQuery(query: RawQuery): AuditQuery {
  const limit = parseLimit(query.limit);
  if (query.userId !== undefined && !isUserId(query.userId)) throw invalidUserId();
  return { limit, userId: query.userId, cursor: query.cursor };
}

/** POST /v1/import/{format}: what every format's body holds; the source is read by importRequest. */
export interface ImportBody {
  source: unknown;
  issuer: string | undefined;
  dryRun: boolean;
  overwrite: boolean;
}

export function importBody(body: RawBody): ImportBody {
  const source = own(body, 'source');
  if (source === undefined) throw invalidRequest("source is required: the other panel's export");
  const issuer = optionalString(body, 'issuer');
  if (issuer !== undefined && !isIssuer(issuer)) throw invalidIssuer();
  return {
    source,
    issuer,
    dryRun: optionalBoolean(body, 'dryRun') ?? false,
    overwrite: optionalBoolean(body, 'overwrite') ?? false,
  };
}

/**
 * The import of `format`: its source read by the format's parser (lib/domain/imports),
 * at most 1,000 logins. An unknown format is no route; a source that is not the
 * format's shape at all is `400 invalid_source`, naming what was expected.
 */
export function importRequest(format: string | undefined, body: ImportBody): LoginImport {
  if (format === undefined || !isImportFormat(format)) throw noSuchRoute();
  let logins;
  try {
    logins = IMPORT_FORMATS[format].parse(body.source);
  } catch (error) {
    if (error instanceof InvalidSource) throw invalidSource(error.message);
    throw error;
  }
  if (logins.length > MAX_IMPORT_LOGINS) {
    throw invalidRequest(`source holds ${logins.length} logins; at most ${MAX_IMPORT_LOGINS} per import`);
  }
  const { source: _, ...rest } = body;
  return { format, logins, ...rest };
}

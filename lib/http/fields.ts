import { invalidRequest } from '../errors.ts';

/** Readers for body fields: a wrong type is `400 invalid_request` naming the field. Unknown fields are ignored. */
type Body = Record<string, unknown> | undefined;

export function optionalString(body: Body, field: string): string | undefined {
  const value = body?.[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidRequest(`${field} must be a string`);
  return value;
}

export function requiredString(body: Body, field: string): string {
  const value = optionalString(body, field);
  if (value === undefined) throw invalidRequest(`${field} is required`);
  return value;
}

export function optionalBoolean(body: Body, field: string): boolean | undefined {
  const value = body?.[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalidRequest(`${field} must be true or false`);
  return value;
}

/** `?limit=` of a listing: 1 to 100, default 50. */
export function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return 50;
  if (!/^[0-9]{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > 100) {
    throw invalidRequest('limit must be an integer from 1 to 100');
  }
  return Number(raw);
}

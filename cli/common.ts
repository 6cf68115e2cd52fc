import { InvalidArgumentError } from 'commander';
import type { TfaApiError, TfaClient } from '../client/tfaClient.ts';
import type { Output } from './output.ts';

/** What every command shares: the exit codes, usage errors, option parsers, messages. */

/** Exit codes: docs/cli.md documents them. */
export const EXIT = { ok: 0, refused: 1, usage: 2, interrupted: 130 } as const;

/** A command line that cannot be run as given: exit 2, like commander's own. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A run that has said what it had to and ends with this code (a bulk run with failures). */
export class Exit extends Error {
  override readonly name = 'Exit';

  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** What every command is given: the client for the configured service, and where to print. */
export interface Cli {
  client(): TfaClient;
  output(): Output;
}

/** A positive integer option (`--limit 20`), refused by commander as a usage error otherwise. */
export function integer(value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('must be a whole number.');
  return Number(value);
}

/** A date option (`2027-01-31`, midnight UTC) or an ISO 8601 UTC time, as the API takes it. */
export function utcTime(value: string): string {
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(iso) || Number.isNaN(Date.parse(iso))) {
    throw new InvalidArgumentError(
      'must be a date (2027-01-31) or an ISO 8601 UTC time (2027-01-31T12:00:00Z).',
    );
  }
  return iso;
}

/** `a,b` → `['a', 'b']`. */
export const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

export function describeApiError(error: TfaApiError): string {
  const request = error.requestId ? ` (request ${error.requestId})` : '';
  return `error: ${error.code}: ${error.message}${request}`;
}

/** A failure that is not the API's answer: the service could not be reached, most often. */
export function describeFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (error instanceof TypeError && cause) {
    return `cannot reach the service: ${cause.code ?? cause.message ?? 'network error'}`;
  }
  return error instanceof Error ? error.message : String(error);
}

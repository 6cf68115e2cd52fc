import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Structured JSON logs, one object a line, through Powertools for AWS Lambda's
 * Logger. Redaction lives in its configuration, not in the care of each call site:
 * the JSON replacer sees every key at every depth of whatever is logged, and these
 * keys never reach the output.
 */
export const REDACTED_KEYS: ReadonlySet<string> = new Set([
  'authorization',
  'secret',
  'code',
  'recoveryCodes',
  'apiKey',
  'otpauthUri',
  'qrPng',
  'qrSvg',
  'body',
  'operatorKey',
]);

const redact = (key: string, value: unknown): unknown =>
  REDACTED_KEYS.has(key) || REDACTED_KEYS.has(key.toLowerCase()) ? '[redacted]' : value;

const LEVELS = new Set(['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT']);

export const createLogger = (): Logger => {
  const level = (process.env.TFA_LOG_LEVEL ?? 'info').toUpperCase();
  return new Logger({
    serviceName: 'tfa',
    logLevel: (LEVELS.has(level) ? level : 'INFO') as 'INFO',
    jsonReplacerFn: redact,
  });
};

let shared: Logger | undefined;
export const logger = (): Logger => {
  shared ??= createLogger();
  return shared;
};

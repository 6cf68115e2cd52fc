import pino from 'pino';

/**
 * Structured JSON logs, one object a line. Redaction lives here, in the logger's
 * configuration, not in the care of each call site: whatever object is logged,
 * these paths never reach the output.
 */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'secret',
  '*.secret',
  'code',
  '*.code',
  'recoveryCodes',
  '*.recoveryCodes',
  'apiKey',
  '*.apiKey',
  'otpauthUri',
  '*.otpauthUri',
  'qrPng',
  '*.qrPng',
  'qrSvg',
  '*.qrSvg',
  'body',
  '*.body',
  'operatorKey',
  '*.operatorKey',
];

export const createLogger = (destination: NodeJS.WritableStream = process.stdout) =>
  pino(
    {
      level: process.env.TFA_LOG_LEVEL ?? 'info',
      base: { service: 'tfa' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    // process.stdout rather than pino's own fd writer: Lambda and the tests read it.
    destination,
  );

export type Logger = ReturnType<typeof createLogger>;

let shared: Logger | undefined;
export const logger = (): Logger => {
  shared ??= createLogger();
  return shared;
};

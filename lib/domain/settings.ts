import { defaultEnrolment, type EnrolmentSettings } from './enrolment.ts';
import { isIssuer, isUtcTimestamp } from './identifiers.ts';

export type HashAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';
export type Policy = 'enabled' | 'disabled';

export interface TotpParams {
  algorithm: HashAlgorithm;
  digits: 6 | 8;
  period: number;
}

export interface TenantSettings {
  issuer: string;
  policy: Policy;
  totp: TotpParams & { window: number };
  lockout: { maxFailures: number; lockSeconds: number };
  setupTtlSeconds: number;
  /** How many active authenticators a user may hold. */
  maxAuthenticators: number;
  /** Who must enrol, by when (enrolment.ts). */
  enrolment: EnrolmentSettings;
}

/** SHA1 / 6 digits / 30 s are the only parameters every common authenticator app honours. */
export const defaultSettings = (issuer: string): TenantSettings => ({
  issuer,
  policy: 'enabled',
  totp: { algorithm: 'SHA1', digits: 6, period: 30, window: 1 },
  lockout: { maxFailures: 5, lockSeconds: 300 },
  setupTtlSeconds: 600,
  maxAuthenticators: 5,
  enrolment: defaultEnrolment(),
});

/** Stored settings, with the default of every field added since they were written. */
export const withDefaults = (stored: Partial<TenantSettings> & { issuer: string }): TenantSettings => ({
  ...defaultSettings(stored.issuer),
  ...stored,
  enrolment: { ...defaultEnrolment(), ...stored.enrolment },
});

/** Why a patch was refused: the contract's error code, and the field at fault. */
export interface SettingsProblem {
  code: 'invalid_settings' | 'invalid_issuer' | 'invalid_request';
  field: string;
  message: string;
}

export type PatchResult = { ok: true; settings: TenantSettings } | { ok: false; problem: SettingsProblem };

type Rule =
  | { type: 'string'; allowed?: readonly string[] }
  | { type: 'integer'; min: number; max: number }
  | { type: 'boolean' }
  /** ISO 8601 UTC, or null. */
  | { type: 'timestamp' };

/** Every setting a PATCH may change but the issuer, with its rule (test/static/parsers holds them to openapi.yaml). */
export const SETTINGS_RULES = {
  policy: { type: 'string', allowed: ['enabled', 'disabled'] },
  'totp.algorithm': { type: 'string', allowed: ['SHA1', 'SHA256', 'SHA512'] },
  'totp.digits': { type: 'integer', min: 6, max: 8 },
  'totp.period': { type: 'integer', min: 15, max: 120 },
  'totp.window': { type: 'integer', min: 0, max: 3 },
  'lockout.maxFailures': { type: 'integer', min: 1, max: 100 },
  'lockout.lockSeconds': { type: 'integer', min: 1, max: 86400 },
  setupTtlSeconds: { type: 'integer', min: 60, max: 86400 },
  maxAuthenticators: { type: 'integer', min: 1, max: 10 },
  'enrolment.required': { type: 'boolean' },
  'enrolment.deadline': { type: 'timestamp' },
  'enrolment.graceDays': { type: 'integer', min: 0, max: 365 },
} as const satisfies Record<string, Rule>;

const NESTED = {
  totp: ['algorithm', 'digits', 'period', 'window'],
  lockout: ['maxFailures', 'lockSeconds'],
  enrolment: ['required', 'deadline', 'graceDays'],
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function checkValue(field: string, value: unknown, rule: Rule): SettingsProblem | undefined {
  if (rule.type === 'boolean') return typeof value === 'boolean' ? undefined : wrongType(field, 'a boolean');
  if (rule.type === 'timestamp') {
    if (value === null) return undefined;
    if (typeof value !== 'string') return wrongType(field, 'a timestamp or null');
    return isUtcTimestamp(value)
      ? undefined
      : { code: 'invalid_settings', field, message: `${field} must be an ISO 8601 UTC timestamp or null` };
  }
  if (rule.type === 'string') {
    if (typeof value !== 'string') return wrongType(field, 'a string');
    if (rule.allowed && !rule.allowed.includes(value)) {
      return {
        code: 'invalid_settings',
        field,
        message: `${field} must be one of ${rule.allowed.join(', ')}`,
      };
    }
    return undefined;
  }
  if (typeof value !== 'number') return wrongType(field, 'a number');
  // digits is the one integer rule with a hole in its range: 7 is not allowed.
  const inRange = Number.isInteger(value) && value >= rule.min && value <= rule.max;
  if (!inRange || (field === 'totp.digits' && value === 7)) {
    const range = field === 'totp.digits' ? '6 or 8' : `an integer from ${rule.min} to ${rule.max}`;
    return { code: 'invalid_settings', field, message: `${field} must be ${range}` };
  }
  return undefined;
}

const wrongType = (field: string, expected: string): SettingsProblem => ({
  code: 'invalid_request',
  field,
  message: `${field} must be ${expected}`,
});

/**
 * Applies a PATCH /v1/settings body to the current settings. A wrong JSON type is
 * `invalid_request` (the API's convention for every body); a value outside the
 * contract's rules, or a field that does not exist, is `invalid_settings`.
 */
export function applySettingsPatch(current: TenantSettings, patch: Record<string, unknown>): PatchResult {
  const next: TenantSettings = structuredClone(current);
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'issuer') {
      if (typeof value !== 'string') return { ok: false, problem: wrongType('issuer', 'a string') };
      if (!isIssuer(value)) {
        return {
          ok: false,
          problem: {
            code: 'invalid_issuer',
            field: 'issuer',
            message: 'issuer must be 1 to 64 printable characters without ":"',
          },
        };
      }
      next.issuer = value;
    } else if (key === 'totp' || key === 'lockout' || key === 'enrolment') {
      if (!isObject(value)) return { ok: false, problem: wrongType(key, 'an object') };
      for (const [inner, innerValue] of Object.entries(value)) {
        const field = `${key}.${inner}`;
        const rule: Rule | undefined = (SETTINGS_RULES as Record<string, Rule>)[field];
        if (!NESTED[key].includes(inner) || !rule) return { ok: false, problem: unknownField(field) };
        const problem = checkValue(field, innerValue, rule);
        if (problem) return { ok: false, problem };
        (next[key] as unknown as Record<string, unknown>)[inner] =
          field === 'enrolment.deadline' && typeof innerValue === 'string'
            ? new Date(Date.parse(innerValue)).toISOString()
            : innerValue;
      }
    } else if (key === 'policy' || key === 'setupTtlSeconds' || key === 'maxAuthenticators') {
      const problem = checkValue(key, value, SETTINGS_RULES[key]);
      if (problem) return { ok: false, problem };
      (next as unknown as Record<string, unknown>)[key] = value;
    } else {
      return { ok: false, problem: unknownField(key) };
    }
  }
  return { ok: true, settings: next };
}

const unknownField = (field: string): SettingsProblem => ({
  code: 'invalid_settings',
  field,
  message: `${field} is not a setting`,
});

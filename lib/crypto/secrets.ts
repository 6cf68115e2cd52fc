import { open, seal } from './aesGcm.ts';
import type { TenantKeys } from './tenantKeys.ts';
import { matchTimeStep, skewedStep, timeStep } from '../domain/totp.ts';
import type { Enrolment } from '../domain/user.ts';

// The AAD binds a sealed TOTP secret to its tenant, user and enrolment: a ciphertext
// copied into another user's record, or from an old enrolment, does not open.
const aad = (tenantId: string, userId: string, enrolmentId: string) =>
  ['tfa-totp-secret', tenantId, userId, enrolmentId].join('\0');

export const sealSecret = (
  keys: TenantKeys,
  at: { tenantId: string; userId: string; enrolmentId: string },
  secret: Uint8Array,
): Buffer => seal(keys.secrets, secret, aad(at.tenantId, at.userId, at.enrolmentId));

/** Throws SealError when the sealed secret is not this user's: the caller fails closed. */
export const openSecret = (
  keys: TenantKeys,
  at: { tenantId: string; userId: string; enrolmentId: string },
  sealed: Uint8Array,
): Buffer => open(keys.secrets, sealed, aad(at.tenantId, at.userId, at.enrolmentId));

/** Runs `use` on the opened secret, and zeroes it however `use` returns. */
function withSecret<T>(
  keys: TenantKeys,
  at: { tenantId: string; userId: string },
  enrolment: Enrolment,
  use: (secret: Buffer) => T,
): T {
  const secret = openSecret(keys, { ...at, enrolmentId: enrolment.id }, enrolment.sealedSecret);
  try {
    return use(secret);
  } finally {
    secret.fill(0);
  }
}

type Where = { tenantId: string; userId: string; window: number; nowMs: number };

/** The time step whose code `code` is, for this enrolment, within the tenant's window; null when none. */
export const matchEnrolmentCode = (
  keys: TenantKeys,
  at: Where,
  enrolment: Enrolment,
  code: string,
): number | null =>
  withSecret(keys, at, enrolment, (secret) => matchTimeStep(secret, code, enrolment, at.nowMs, at.window));

export interface CodeMatch<A extends Enrolment> {
  authenticator: A;
  /** The matched step's start, in Unix seconds: what replay is judged by across periods. */
  stepStart: number;
  /** The matched step minus the current one. */
  driftSteps: number;
}

/**
 * The authenticator of `candidates` whose code `code` is within the window. Every
 * candidate is checked, with no early exit, so the time taken does not tell which one
 * matched; of several, the one whose step began last (a replayed step never hides a
 * fresh one). With no match, `skewSteps` is the nearest offset outside the window
 * at which one of them matched (a clock-skew hint), or null.
 */
export function matchAuthenticators<A extends Enrolment>(
  keys: TenantKeys,
  at: Where,
  candidates: readonly A[],
  code: string,
): { match: CodeMatch<A> | null; skewSteps: number | null } {
  let match: CodeMatch<A> | null = null;
  for (const authenticator of candidates) {
    const step = matchEnrolmentCode(keys, at, authenticator, code);
    if (step === null) continue;
    const stepStart = step * authenticator.period;
    if (match === null || stepStart > match.stepStart) {
      match = { authenticator, stepStart, driftSteps: step - timeStep(at.nowMs, authenticator.period) };
    }
  }
  if (match !== null) return { match, skewSteps: null };
  let skewSteps: number | null = null;
  for (const authenticator of candidates) {
    const offset = withSecret(keys, at, authenticator, (secret) =>
      skewedStep(secret, code, authenticator, at.nowMs, at.window),
    );
    if (offset !== null && (skewSteps === null || Math.abs(offset) < Math.abs(skewSteps))) skewSteps = offset;
  }
  return { match: null, skewSteps };
}

// A webhook endpoint's signing secret, bound to its tenant, endpoint and place in the
// endpoint's rotation: it dies with the tenant's key, like every secret.
const webhookAad = (tenantId: string, webhookId: string, n: number) =>
  ['tfa-webhook-secret', tenantId, webhookId, String(n)].join('\0');

export const sealWebhookSecret = (
  keys: TenantKeys,
  at: { tenantId: string; webhookId: string; n: number },
  secret: string,
): Buffer => seal(keys.secrets, Buffer.from(secret, 'utf8'), webhookAad(at.tenantId, at.webhookId, at.n));

export const openWebhookSecret = (
  keys: TenantKeys,
  at: { tenantId: string; webhookId: string; n: number },
  sealed: Uint8Array,
): string => open(keys.secrets, sealed, webhookAad(at.tenantId, at.webhookId, at.n)).toString('utf8');

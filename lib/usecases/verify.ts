import { randomUUID } from 'node:crypto';
import type { AuditEntry } from '../domain/audit.ts';
import type { TenantContext } from './context.ts';
import { again, done, untilApplied } from './optimistic.ts';
import { parseCode } from '../domain/codes.ts';
import { isDisabled, lockRemaining } from '../domain/lockout.ts';
import type { UserRecord } from '../domain/user.ts';
import { sameBytes } from '../crypto/hashes.ts';
import { invalidRequest, notEnrolled, policyDisabled } from '../errors.ts';
import { countFailure, retryAfterSeconds } from './failedAttempts.ts';
import { findRecoveryHash, recoveryHash } from '../crypto/recoveryHashes.ts';
import { matchEnrolmentCode } from '../crypto/secrets.ts';
import type { MetricName } from '../observability/metrics.ts';

export type VerifyAnswer =
  | { valid: true; method: 'totp' }
  | { valid: true; method: 'recovery'; recoveryCodesRemaining: number }
  | { valid: false; reason: 'invalid_code' | 'replayed' | 'disabled' }
  | { valid: false; reason: 'locked'; retryAfterSeconds: number };

/**
 * POST /v1/users/{userId}/verify. The user was read with the key and tenant (one
 * round trip); the answer is one conditional write, which the store admits only
 * within the guess budget. A lost write is re-read and decided again, so an
 * attempt that meets a lock set meanwhile answers `locked`; a per-request token
 * recognises our own write after an SDK retry.
 */
export async function verifyCode(
  ctx: TenantContext,
  userId: string,
  read: UserRecord | undefined,
  rawCode: string,
): Promise<VerifyAnswer> {
  const answer = await decide(ctx, userId, read, rawCode);
  ctx.deps.counters.count(METRIC[answer.valid ? 'valid' : answer.reason]);
  const entry: AuditEntry = answer.valid
    ? { action: 'verify', userId, outcome: 'success', reason: answer.method }
    : { action: 'verify', userId, outcome: answer.reason };
  await ctx.audit(entry);
  return answer;
}

const METRIC: Record<'valid' | Extract<VerifyAnswer, { valid: false }>['reason'], MetricName> = {
  valid: 'VerifyValid',
  invalid_code: 'VerifyInvalidCode',
  replayed: 'VerifyReplayed',
  locked: 'VerifyLocked',
  disabled: 'VerifyDisabled',
};

async function decide(
  ctx: TenantContext,
  userId: string,
  read: UserRecord | undefined,
  rawCode: string,
): Promise<VerifyAnswer> {
  const { deps, tenant } = ctx;
  if (tenant.settings.policy === 'disabled') throw policyDisabled();
  if (!read?.active) throw notEnrolled();
  const submitted = parseCode(rawCode, read.active.digits);
  if (!submitted) throw invalidRequest(`code must be ${read.active.digits} digits or a recovery code`);
  const token = randomUUID();

  const { lockout } = tenant.settings;
  return untilApplied<UserRecord | undefined, VerifyAnswer>(read, async (user) => {
    const active = user?.active;
    if (!user || !active) throw notEnrolled();
    if (user.lastStepToken === token) return done({ valid: true, method: 'totp' });
    if (user.lastRecoveryToken === token) {
      return done({ valid: true, method: 'recovery', recoveryCodesRemaining: user.recoveryHashes.length });
    }
    if (isDisabled(user)) return done({ valid: false, reason: 'disabled' });
    const nowMs = deps.now();
    const locked = lockRemaining(user, lockout, nowMs);
    // Locked: answered without evaluating the code at all.
    if (locked > 0)
      return done({ valid: false, reason: 'locked', retryAfterSeconds: retryAfterSeconds(locked) });

    const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
    let write: Promise<{ applied: boolean; current?: UserRecord | undefined }>;
    let success: VerifyAnswer;
    if (submitted.kind === 'totp') {
      const step = matchEnrolmentCode(
        keys,
        { tenantId: tenant.tenantId, userId, window: tenant.settings.totp.window, nowMs },
        active,
        submitted.code,
      );
      if (step === null) return done(await failed(ctx, user));
      if (user.lastUsedStep !== undefined && step <= user.lastUsedStep)
        return done({ valid: false, reason: 'replayed' });
      write = deps.store.acceptStep(user, active.id, step, token, { nowMs, lockout });
      success = { valid: true, method: 'totp' };
    } else {
      const hash = recoveryHash(keys, userId, submitted.code);
      const stored = findRecoveryHash(user.recoveryHashes, hash);
      if (!stored) {
        // The code spent last, sent again (a retry, a double click): not a guess.
        if (user.lastRecoveryHash && sameBytes(user.lastRecoveryHash, hash)) {
          return done({ valid: false, reason: 'replayed' });
        }
        return done(await failed(ctx, user));
      }
      write = deps.store.spendRecoveryCode(user, active.id, stored, token, { nowMs, lockout });
      success = { valid: true, method: 'recovery', recoveryCodesRemaining: user.recoveryHashes.length - 1 };
    }
    const result = await write;
    if (result.applied) return done(success);
    return again(result.current ?? (await deps.store.getUser(tenant.tenantId, userId)));
  });
}

async function failed(ctx: TenantContext, user: UserRecord): Promise<VerifyAnswer> {
  const outcome = await countFailure(ctx, user, true);
  if (outcome.kind === 'gone') throw notEnrolled();
  if (outcome.kind === 'disabled') return { valid: false, reason: 'disabled' };
  if (outcome.kind === 'locked') {
    return { valid: false, reason: 'locked', retryAfterSeconds: retryAfterSeconds(outcome.retryAfterMs) };
  }
  return { valid: false, reason: 'invalid_code' };
}

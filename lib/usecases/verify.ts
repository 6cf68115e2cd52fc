import { randomUUID } from 'node:crypto';
import type { AuditEntry } from '../domain/audit.ts';
import type { TenantContext } from './context.ts';
import { again, done, untilApplied } from './optimistic.ts';
import { parseCode } from '../domain/codes.ts';
import { isDisabled, lockRemaining } from '../domain/lockout.ts';
import { type Authenticator, findAuthenticator, isEnrolled, type UserRecord } from '../domain/user.ts';
import { sameBytes } from '../crypto/hashes.ts';
import { authenticatorNotFound, invalidRequest, notEnrolled, policyDisabled } from '../errors.ts';
import { countFailure, reportUnreported, retryAfterSeconds } from './failedAttempts.ts';
import { findRecoveryHash, recoveryHash } from '../crypto/recoveryHashes.ts';
import { matchAuthenticators } from '../crypto/secrets.ts';
import type { MetricName } from '../observability/metrics.ts';
import type { SecurityEvent } from '../domain/webhooks.ts';
import { publishEvents, securityEvent, wanted } from './events.ts';
import type { IdempotentCall } from '../crypto/idempotency.ts';
import type { KeptVerify } from '../store/port.ts';
import { verifyMemory, type VerifyMemoryOf } from './verifyMemory.ts';

export type VerifyAnswer =
  | { valid: true; method: 'totp'; authenticatorId: string; driftSteps: number }
  | { valid: true; method: 'recovery'; recoveryCodesRemaining: number }
  | { valid: false; reason: 'invalid_code' | 'replayed' | 'disabled' }
  | { valid: false; reason: 'locked'; retryAfterSeconds: number };

export interface VerifyRequest {
  code: string;
  /** Check only this authenticator; without it, every one of the user's is checked. */
  authenticatorId: string | undefined;
  /** Sent with an Idempotency-Key: the answer is kept by the write that checks the code (verifyMemory.ts). */
  idempotency?: IdempotentCall | undefined;
}

/** The answer, and whether it is one kept under the request's Idempotency-Key, sent again. */
export interface VerifyOutcome {
  answer: VerifyAnswer;
  replayed: boolean;
}

/**
 * POST /v1/users/{userId}/verify. The user was read with the key and tenant (one
 * round trip); the answer is one conditional write, which the store admits only
 * within the guess budget, whatever the number of authenticators. A lost write is
 * re-read and decided again, so an attempt that meets a lock set meanwhile answers
 * `locked`; a per-request token recognises our own write after an SDK retry.
 */
export async function verifyCode(
  ctx: TenantContext,
  userId: string,
  read: UserRecord | undefined,
  request: VerifyRequest,
): Promise<VerifyOutcome> {
  const memory = request.idempotency && verifyMemory<VerifyAnswer>(ctx, userId, request.idempotency);
  // Answered before under this key: sent again, whatever has changed since; nothing is counted.
  const kept = await memory?.recall(read);
  if (kept !== undefined) return { answer: kept, replayed: true };
  const decided = await decide(ctx, userId, read, request, memory);
  if (decided.replayed) return decided;
  const { answer } = decided;
  ctx.deps.counters.count(METRIC[answer.valid ? 'valid' : answer.reason]);
  const entry: AuditEntry = answer.valid
    ? {
        action: 'verify',
        userId,
        outcome: 'success',
        reason: answer.method,
        ...(answer.method === 'totp' ? { authenticatorId: answer.authenticatorId } : {}),
      }
    : {
        action: 'verify',
        userId,
        outcome: answer.reason,
        ...(request.authenticatorId === undefined ? {} : { authenticatorId: request.authenticatorId }),
      };
  await ctx.audit(entry);
  return decided;
}

const METRIC: Record<'valid' | Extract<VerifyAnswer, { valid: false }>['reason'], MetricName> = {
  valid: 'VerifyValid',
  invalid_code: 'VerifyInvalidCode',
  replayed: 'VerifyReplayed',
  locked: 'VerifyLocked',
  disabled: 'VerifyDisabled',
};

/** The authenticators a code is checked against: the one named, or all of the user's. */
function candidatesOf(user: UserRecord, authenticatorId: string | undefined): Authenticator[] {
  if (authenticatorId === undefined) return user.authenticators;
  const named = findAuthenticator(user, authenticatorId);
  if (!named) throw authenticatorNotFound();
  return [named];
}

async function decide(
  ctx: TenantContext,
  userId: string,
  read: UserRecord | undefined,
  request: VerifyRequest,
  memory: VerifyMemoryOf<VerifyAnswer> | undefined,
): Promise<VerifyOutcome> {
  const { deps, tenant } = ctx;
  if (tenant.settings.policy === 'disabled') throw policyDisabled();
  if (!isEnrolled(read)) throw notEnrolled();
  const lengths = [...new Set(candidatesOf(read, request.authenticatorId).map((a) => a.digits))];
  const submitted = parseCode(request.code, lengths);
  if (!submitted) throw invalidRequest(`code must be ${lengths.join(' or ')} digits or a recovery code`);
  const token = randomUUID();
  // What our write answers, for recognising it after an SDK retry.
  let pendingAnswer: VerifyAnswer | undefined;
  // The events our write carries (a recovery code's; a time step's carries none).
  let pendingEvents: SecurityEvent[] = [];
  const published = async (answer: VerifyAnswer) => {
    await publishEvents(ctx, deps.store.userRef(tenant.tenantId, userId), pendingEvents);
    return fresh(answer);
  };

  const { lockout } = tenant.settings;
  return untilApplied<UserRecord | undefined, VerifyOutcome>(read, async (user, tries) => {
    if (pendingAnswer && (user?.lastStepToken === token || user?.lastRecoveryToken === token)) {
      return done(await published(pendingAnswer));
    }
    // Lost to the same key's other attempt, which kept its answer: that one is the answer.
    const kept = tries > 0 ? await memory?.recall(user) : undefined;
    if (kept !== undefined) return done({ answer: kept, replayed: true });
    if (!isEnrolled(user)) throw notEnrolled();
    const candidates = candidatesOf(user, request.authenticatorId);
    const nowMs = deps.now();
    const locked = lockRemaining(user, lockout, nowMs);
    if (isDisabled(user) || locked > 0) await reportUnreported(ctx, user);
    if (isDisabled(user)) return done(fresh({ valid: false, reason: 'disabled' }));
    // Locked: answered without evaluating the code at all.
    if (locked > 0)
      return done(fresh({ valid: false, reason: 'locked', retryAfterSeconds: retryAfterSeconds(locked) }));
    const keeping = (answer: VerifyAnswer) => memory?.keep(user, answer, nowMs);

    const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
    let write: Promise<{ applied: boolean; current?: UserRecord | undefined }>;
    if (submitted.kind === 'totp') {
      const checked = candidates.filter((a) => a.digits === submitted.code.length);
      const { match, skewSteps } = matchAuthenticators(
        keys,
        { tenantId: tenant.tenantId, userId, window: tenant.settings.totp.window, nowMs },
        checked,
        submitted.code,
      );
      if (match === null) {
        const clockSkew = skewSteps === null ? undefined : { steps: skewSteps, at: nowMs };
        return done(await failed(ctx, user, checked.length, clockSkew, keeping, memory));
      }
      // Replay is per user: a step (or an earlier one) accepted for any authenticator.
      if (user.lastStepStart !== undefined && match.stepStart <= user.lastStepStart)
        return done(fresh(await replayed(ctx, user, match.stepStart, 'totp')));
      pendingAnswer = {
        valid: true,
        method: 'totp',
        authenticatorId: match.authenticator.id,
        driftSteps: match.driftSteps,
      };
      write = deps.store.acceptStep(user, match.authenticator, match.stepStart, token, {
        nowMs,
        lockout,
        ...remembering(await keeping(pendingAnswer)),
      });
    } else {
      const hash = recoveryHash(keys, userId, submitted.code);
      const stored = findRecoveryHash(user.recoveryHashes, hash);
      if (!stored) {
        // The code spent last, sent again (a retry, a double click): not a guess.
        if (user.lastRecoveryHash && sameBytes(user.lastRecoveryHash, hash)) {
          return done(fresh(await replayed(ctx, user, Math.floor(nowMs / 30_000) * 30, 'recovery')));
        }
        return done(await failed(ctx, user, 1, undefined, keeping, memory));
      }
      const remaining = user.recoveryHashes.length - 1;
      pendingEvents = await wanted(ctx, [
        securityEvent(ctx, 'tfa.recovery_code.used', userId, { remaining }),
      ]);
      pendingAnswer = { valid: true, method: 'recovery', recoveryCodesRemaining: remaining };
      write = deps.store.spendRecoveryCode(
        user,
        stored,
        token,
        { nowMs, lockout, ...remembering(await keeping(pendingAnswer)) },
        pendingEvents,
      );
    }
    const result = await write;
    if (result.applied) return done(await published(pendingAnswer));
    return again(result.current ?? (await deps.store.getUser(tenant.tenantId, userId)));
  });
}

/**
 * A replay: reported once per user and time step (tfa.verification.replayed), in a
 * write of its own, since a code replayed right after its owner used it may be a
 * relayed phishing attempt. A step reported already costs no write.
 */
async function replayed(
  ctx: TenantContext,
  user: UserRecord,
  step: number,
  method: 'totp' | 'recovery',
): Promise<VerifyAnswer> {
  const answer: VerifyAnswer = { valid: false, reason: 'replayed' };
  if (user.replayedStep !== undefined && user.replayedStep >= step) return answer;
  const events = await wanted(ctx, [
    securityEvent(ctx, 'tfa.verification.replayed', user.userId, { method }),
  ]);
  if (events.length > 0 && (await ctx.deps.store.reportOnce(user, 'replay', step, events))) {
    await publishEvents(ctx, ctx.deps.store.userRef(user.tenantId, user.userId), events);
  }
  return answer;
}

const fresh = (answer: VerifyAnswer): VerifyOutcome => ({ answer, replayed: false });
const remembering = (remember: KeptVerify | undefined) => (remember === undefined ? {} : { remember });

/** A wrong code: counted, and its answer (`invalid_code`) kept in the same write under the request's key. */
async function failed(
  ctx: TenantContext,
  user: UserRecord,
  weight: number,
  clockSkew: { steps: number; at: number } | undefined,
  keeping: (answer: VerifyAnswer) => Promise<KeptVerify> | undefined,
  memory: VerifyMemoryOf<VerifyAnswer> | undefined,
): Promise<VerifyOutcome> {
  const answer: VerifyAnswer = { valid: false, reason: 'invalid_code' };
  const outcome = await countFailure(ctx, user, {
    bindsDisable: true,
    weight,
    clockSkew,
    ...(memory ? { keep: await keeping(answer), kept: memory.recall } : {}),
  });
  if (outcome.kind === 'gone') throw notEnrolled();
  if (outcome.kind === 'kept') return { answer: outcome.answer as VerifyAnswer, replayed: true };
  if (outcome.kind === 'disabled') return fresh({ valid: false, reason: 'disabled' });
  if (outcome.kind === 'locked') {
    return fresh({
      valid: false,
      reason: 'locked',
      retryAfterSeconds: retryAfterSeconds(outcome.retryAfterMs),
    });
  }
  return fresh(answer);
}

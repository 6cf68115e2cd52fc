import { type IdempotentCall, openAnswer, requestFingerprint, sealAnswer } from '../crypto/idempotency.ts';
import { sameBytes } from '../crypto/hashes.ts';
import { liveMemory, memoriesToDrop } from '../domain/idempotency.ts';
import type { UserRecord } from '../domain/user.ts';
import { idempotencyKeyReused } from '../errors.ts';
import type { KeptVerify } from '../store/port.ts';
import type { TenantContext } from './context.ts';

/**
 * A verify sent with an Idempotency-Key keeps its answer on the user's item, in the
 * write that checks the code (the step used, or the failure counted), so it costs no
 * store round trip more than a verify without one: the user is read anyway with the
 * key and tenant, and that read holds the answers of its recent verifies. An answer
 * that checked no code (a lock in force, a replayed step, a refused input) writes
 * nothing, and a retry is answered from the state at its own time.
 */
export interface VerifyMemoryOf<A> {
  /** The answer kept under this request's key on `user`: a replay; a 422 if another request used the key. */
  recall(user: UserRecord | undefined): Promise<A | undefined>;
  /** What the write that gives `answer` keeps beside it. */
  keep(user: UserRecord, answer: A, nowMs: number): Promise<KeptVerify>;
}

export function verifyMemory<A>(ctx: TenantContext, userId: string, call: IdempotentCall): VerifyMemoryOf<A> {
  const { deps, tenant } = ctx;
  const place = { kind: 'verify', tenantId: tenant.tenantId, userId } as const;
  const keys = () => deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
  let fingerprint: Buffer | undefined;
  const fingerprintOf = async () =>
    (fingerprint ??= requestFingerprint((await keys()).requests, call.identity));
  return {
    async recall(user) {
      const memory = liveMemory(user?.verifyMemories, call.slot, deps.now());
      if (memory === undefined) return undefined;
      if (!sameBytes(memory.fingerprint, await fingerprintOf())) throw idempotencyKeyReused();
      return JSON.parse(openAnswer(await keys(), place, call.slot, memory.sealedAnswer)) as A;
    },
    async keep(user, answer, nowMs) {
      const drop = memoriesToDrop(user.verifyMemories ?? new Map(), nowMs).filter(
        (slot) => slot !== call.slot,
      );
      return {
        slot: call.slot,
        drop,
        memory: {
          fingerprint: await fingerprintOf(),
          sealedAnswer: sealAnswer(await keys(), place, call.slot, JSON.stringify(answer)),
          at: nowMs,
        },
      };
    },
  };
}

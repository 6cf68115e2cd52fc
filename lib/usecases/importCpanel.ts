import { randomBytes, timingSafeEqual } from 'node:crypto';
import { openSecret, sealSecret } from '../crypto/secrets.ts';
import type { TenantKeys } from '../crypto/tenantKeys.ts';
import { CPANEL_TOTP, type CpanelLogin, cpanelSecret, isWeak } from '../domain/cpanel.ts';
import { isUserId } from '../domain/identifiers.ts';
import type { ActiveEnrolment, UserRecord } from '../domain/user.ts';
import { serviceUnavailable } from '../errors.ts';
import type { TenantContext } from './context.ts';

export interface CpanelImport {
  logins: CpanelLogin[];
  /** Stored with each imported enrolment; the tenant's issuer by default. */
  issuer: string | undefined;
  dryRun: boolean;
  overwrite: boolean;
}

type Outcome = 'imported' | 'unchanged' | 'conflict' | 'invalid_secret' | 'invalid_user_id';
type Result = { userId: string; outcome: Outcome; weakSecret?: boolean };

/** Conditional writes in flight at once: well inside the store's and Lambda's limits. */
const WRITES_IN_FLIGHT = 16;
/** A login whose user changed under the import is judged again, this many times. */
const ATTEMPTS = 3;

/**
 * POST /v1/import/cpanel: cPanel's confirmed authenticators become active ones
 * here, with the same secrets, so users scan nothing and their codes keep working.
 * Per login: `imported`, `unchanged` (the same secret is already active),
 * `conflict` (another one is, and `overwrite` is off), or why it was refused. The
 * users are read in batches; the writes are conditional on what was read, so a
 * concurrent setup or import is judged again rather than overwritten.
 */
export async function importCpanel(ctx: TenantContext, request: CpanelImport) {
  const { deps, tenant } = ctx;
  const issuer = request.issuer ?? tenant.settings.issuer;
  const results: Result[] = [];
  const candidates: { result: Result; secret: Uint8Array }[] = [];
  for (const { login, secret: raw } of request.logins) {
    if (!isUserId(login)) {
      results.push({ userId: login, outcome: 'invalid_user_id' });
      continue;
    }
    const secret = cpanelSecret(raw);
    const result: Result = { userId: login, outcome: secret ? 'imported' : 'invalid_secret' };
    results.push(result);
    if (secret) candidates.push({ result, secret });
  }

  try {
    if (candidates.length > 0) {
      const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
      const users = await deps.store.getUsers(
        tenant.tenantId,
        candidates.map(({ result }) => result.userId),
      );
      const byId = new Map(users.map((user) => [user.userId, user]));
      await inParallel(candidates, WRITES_IN_FLIGHT, async ({ result, secret }) => {
        let user = byId.get(result.userId);
        for (let attempt = 0; ; attempt++) {
          if (attempt === ATTEMPTS) throw serviceUnavailable('the database, under concurrent changes,');
          const judged = judge(keys, tenant.tenantId, user, secret, request.overwrite);
          result.outcome = judged;
          if (judged !== 'imported') break;
          if (request.dryRun) break;
          const active = enrolment(keys, tenant.tenantId, result.userId, secret, issuer, deps.now());
          const written = await deps.store.importActive(
            tenant.tenantId,
            result.userId,
            active,
            user?.active?.id ?? null,
          );
          if (written.applied) {
            await ctx.audit({
              action: 'import',
              userId: result.userId,
              outcome: 'success',
              ...(user?.active ? { reason: 'overwrite' } : {}),
            });
            break;
          }
          user = written.current ?? (await deps.store.getUser(tenant.tenantId, result.userId));
        }
        if (result.outcome === 'imported' || result.outcome === 'unchanged') {
          result.weakSecret = isWeak(secret.length);
        }
      });
    }
  } finally {
    for (const { secret } of candidates) secret.fill(0);
  }

  const count = (...outcomes: Outcome[]) => results.filter((r) => outcomes.includes(r.outcome)).length;
  if (!request.dryRun) deps.counters.count('Imported', count('imported'));
  return {
    dryRun: request.dryRun,
    counts: {
      imported: count('imported'),
      unchanged: count('unchanged'),
      conflict: count('conflict'),
      invalid: count('invalid_secret', 'invalid_user_id'),
    },
    results,
  };
}

/** What importing `secret` would do to `user` now. */
function judge(
  keys: TenantKeys,
  tenantId: string,
  user: UserRecord | undefined,
  secret: Uint8Array,
  overwrite: boolean,
): Outcome {
  const active = user?.active;
  if (!user || !active) return 'imported';
  const current = openSecret(
    keys,
    { tenantId, userId: user.userId, enrolmentId: active.id },
    active.sealedSecret,
  );
  try {
    const same = current.length === secret.length && timingSafeEqual(current, secret);
    if (same) return 'unchanged';
  } finally {
    current.fill(0);
  }
  return overwrite ? 'imported' : 'conflict';
}

/** cPanel's parameters, the secret sealed like setup's, confirmed now, with no recovery codes. */
function enrolment(
  keys: TenantKeys,
  tenantId: string,
  userId: string,
  secret: Uint8Array,
  issuer: string,
  nowMs: number,
): ActiveEnrolment {
  const id = randomBytes(8).toString('hex');
  return {
    id,
    sealedSecret: sealSecret(keys, { tenantId, userId, enrolmentId: id }, secret),
    ...CPANEL_TOTP,
    issuer,
    accountName: userId,
    createdAt: nowMs,
    confirmedAt: nowMs,
    source: 'import',
    secretBytes: secret.length,
  };
}

/** Runs `work` on every item, at most `limit` at a time. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

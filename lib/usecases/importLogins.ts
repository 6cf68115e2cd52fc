import { timingSafeEqual } from 'node:crypto';
import { openSecret, sealSecret } from '../crypto/secrets.ts';
import type { TenantKeys } from '../crypto/tenantKeys.ts';
import { importedSecret, isWeak } from '../domain/imports/secret.ts';
import { IMPORT_FORMATS, type ImportFormat } from '../domain/imports/formats.ts';
import { isRefused, type ReadLogin, type SourceLogin } from '../domain/imports/sourceLogins.ts';
import { isUserId } from '../domain/identifiers.ts';
import type { Authenticator, UserRecord } from '../domain/user.ts';
import { emptyUser } from '../domain/user.ts';
import { newAuthenticatorId } from './setup.ts';
import { type AuditEvent, importEvent, type ImportOrigin } from '../domain/audit.ts';
import { publishEvents, securityEvent, wanted } from './events.ts';
import { unauthorized } from '../errors.ts';
import { countChanges } from './enrolment.ts';
import type { TenantContext } from './context.ts';
import { again, type Attempt, done, untilApplied } from './optimistic.ts';

export interface LoginImport {
  format: ImportFormat;
  /** What the format's parser read (lib/domain/imports), in source order. */
  logins: SourceLogin[];
  /** Stored with each imported enrolment; the tenant's issuer by default. */
  issuer: string | undefined;
  dryRun: boolean;
  overwrite: boolean;
}

type Outcome =
  | 'imported'
  | 'unchanged'
  | 'conflict'
  | 'invalid_secret'
  | 'invalid_user_id'
  | 'invalid_parameters'
  | 'not_enrolled'
  | 'unsupported';
type Result = { userId: string; outcome: Outcome; weakSecret?: boolean; weakReasons?: string[] };

/** What one login leaves to record: the event of its write, or of an earlier import's. */
type LoginEvent = { written?: AuditEvent; earlier?: AuditEvent } | undefined;

/** Conditional writes in flight at once: well inside the store's and Lambda's limits. */
const WRITES_IN_FLIGHT = 16;
/** Audit events written per call: BatchWriteItem's limit. */
const BATCH_WRITE = 25;

/**
 * POST /v1/import/{format}: another panel's confirmed authenticators become active ones
 * here, with the same secrets, so users scan nothing and their codes keep working.
 * The format's parser (lib/domain/imports) has read the source; from here on every
 * format is the same pipeline.
 * Per login: `imported`, `unchanged` (the same secret is already active),
 * `conflict` (another one is, and `overwrite` is off), or why it was refused. The
 * users are read in batches; the writes are conditional on what was read, so a
 * concurrent setup or import is judged again rather than overwritten.
 *
 * Each imported login is whole: the authenticator carries who imported it
 * (`origin`), and its `import` event is built from that with a key of its own, so a
 * rerun writes an event a crashed or cut-short import left unwritten, and never a
 * second. A login named twice is imported once: its first occurrence decides, and a
 * later one with the same secret shares its outcome (`imported` read as
 * `unchanged`), with another secret it is a `conflict`.
 */
export async function importLogins(ctx: TenantContext, request: LoginImport) {
  const { deps, tenant } = ctx;
  const issuer = request.issuer ?? tenant.settings.issuer;
  const results: Result[] = [];
  const candidates: Candidate[] = [];
  const first = new Map<string, Candidate>();
  const repeats: Candidate[] = [];
  for (const line of request.logins) {
    const login = line.userId;
    // Skipped (not enrolled there, another kind of second factor) or refused by the parser.
    if (isRefused(line)) {
      results.push({ userId: login, outcome: line.outcome });
      continue;
    }
    if (!isUserId(login)) {
      results.push({ userId: login, outcome: 'invalid_user_id' });
      continue;
    }
    const secret = importedSecret(line.secret);
    const result: Result = { userId: login, outcome: secret ? 'imported' : 'invalid_secret' };
    results.push(result);
    if (!secret) continue;
    const candidate = { result, secret, line };
    if (first.has(login)) repeats.push(candidate);
    else {
      first.set(login, candidate);
      candidates.push(candidate);
    }
  }

  try {
    if (candidates.length > 0) {
      const keys = await deps.keyring.keysFor(tenant.tenantId, tenant.wrappedDataKey);
      const users = await deps.store.getUsers(
        tenant.tenantId,
        candidates.map(({ result }) => result.userId),
      );
      const byId = new Map(users.map((user) => [user.userId, user]));
      // Events of the logins this call wrote, recorded 25 a call; those of logins an
      // earlier call wrote, checked and written if a crash left them unwritten.
      const made: AuditEvent[] = [];
      const flush = () => deps.audit.recordAll(made.splice(0));
      const earlier: AuditEvent[] = [];
      try {
        await inParallel(candidates, WRITES_IN_FLIGHT, async (candidate) => {
          const login = await importLogin(
            ctx,
            keys,
            request,
            issuer,
            candidate,
            byId.get(candidate.result.userId),
          );
          if (login?.written) {
            made.push(login.written);
            if (made.length >= BATCH_WRITE) await flush();
          }
          if (login?.earlier) earlier.push(login.earlier);
        });
      } finally {
        await flush();
      }
      await deps.audit.recordMissing(earlier);
      for (const { result, secret } of candidates) {
        if (result.outcome === 'imported' || result.outcome === 'unchanged')
          Object.assign(result, weakness(request.format, secret));
      }
      for (const { result, secret } of repeats) {
        const firstOne = first.get(result.userId) as Candidate;
        const same = firstOne.secret.length === secret.length && timingSafeEqual(firstOne.secret, secret);
        result.outcome = !same
          ? 'conflict'
          : firstOne.result.outcome === 'imported'
            ? 'unchanged'
            : firstOne.result.outcome;
        if (result.outcome === 'unchanged') Object.assign(result, weakness(request.format, secret));
      }
    }
  } finally {
    // Only once every write has settled (inParallel waits for them): a write still in
    // flight would otherwise seal a zeroed secret.
    for (const { secret } of [...candidates, ...repeats]) secret.fill(0);
  }
  // A tenant deleted while its import ran: its key is gone, and so is the answer.
  const live = await deps.store.getTenant(tenant.tenantId);
  if (!live || live.deletedAt !== undefined) throw unauthorized();

  const count = (...outcomes: Outcome[]) => results.filter((r) => outcomes.includes(r.outcome)).length;
  if (!request.dryRun) deps.counters.count('Imported', count('imported'));
  if (count('imported') > 0) await countChanges(ctx);
  return {
    dryRun: request.dryRun,
    format: request.format,
    counts: {
      imported: count('imported'),
      unchanged: count('unchanged'),
      conflict: count('conflict'),
      invalid: count('invalid_secret', 'invalid_user_id', 'invalid_parameters'),
      skipped: count('not_enrolled', 'unsupported'),
    },
    results,
  };
}

type Candidate = { result: Result; secret: Uint8Array; line: ReadLogin };

/** Why a secret is weak: shorter than 128 bits, and what its format inherits (IMPORT_FORMATS). */
const weakness = (format: ImportFormat, secret: Uint8Array) => {
  const weakReasons = [...(isWeak(secret.length) ? ['short'] : []), ...IMPORT_FORMATS[format].weaknesses];
  return { weakSecret: weakReasons.length > 0, weakReasons };
};

/**
 * One login: judged, and written if it is to be imported. Answers the event of what
 * it wrote, or of an earlier import of the same secret (which a crash may have left
 * unwritten), for the caller to record.
 */
async function importLogin(
  ctx: TenantContext,
  keys: TenantKeys,
  request: LoginImport,
  issuer: string,
  { result, secret, line }: Candidate,
  read: UserRecord | undefined,
) {
  const { deps, tenant } = ctx;
  // The id of this request's own write: a lost reply makes it look like another's.
  let written: string | undefined;
  return untilApplied(read, async (user): Promise<Attempt<UserRecord | undefined, LoginEvent>> => {
    const { outcome: judged, same } = judge(keys, tenant.tenantId, user, secret, request.overwrite);
    result.outcome = judged === 'unchanged' && same?.id === written ? 'imported' : judged;
    if (request.dryRun) return done(undefined);
    if (judged !== 'imported') {
      // The same secret, imported before: its event may be what a crash left unwritten.
      if (same?.origin) {
        return done({
          earlier: importEvent(tenant.tenantId, result.userId, { ...same, origin: same.origin }),
        });
      }
      return done(undefined);
    }
    const origin: ImportOrigin = {
      requestId: ctx.requestId,
      keyId: ctx.actor.keyId,
      keyName: ctx.actor.name,
      ...(user && user.authenticators.length > 0 ? { reason: 'overwrite' as const } : {}),
    };
    const made = enrolment(keys, tenant.tenantId, result.userId, secret, deps.now(), {
      format: request.format,
      line,
      issuer,
      origin,
    });
    written = made.id;
    const events = await wanted(ctx, [
      securityEvent(ctx, 'tfa.user.imported', result.userId, {
        format: request.format,
        authenticatorId: made.id,
        ...weakness(request.format, secret),
      }),
    ]);
    const write = await deps.store.importAuthenticator(
      user ?? emptyUser(tenant.tenantId, result.userId),
      made,
      deps.now(),
      events,
    );
    if (write.applied) {
      await publishEvents(ctx, deps.store.userRef(tenant.tenantId, result.userId), events);
      return done({ written: importEvent(tenant.tenantId, result.userId, { ...made, origin }) });
    }
    return again(write.current ?? (await deps.store.getUser(tenant.tenantId, result.userId)));
  });
}

/**
 * What importing `secret` would do to `user` now: `unchanged` when one of its
 * authenticators has this secret (`same`), `conflict` when others are there.
 */
function judge(
  keys: TenantKeys,
  tenantId: string,
  user: UserRecord | undefined,
  secret: Uint8Array,
  overwrite: boolean,
): { outcome: Outcome; same?: Authenticator } {
  if (!user || user.authenticators.length === 0) return { outcome: 'imported' };
  for (const authenticator of user.authenticators) {
    const current = openSecret(
      keys,
      { tenantId, userId: user.userId, enrolmentId: authenticator.id },
      authenticator.sealedSecret,
    );
    try {
      if (current.length === secret.length && timingSafeEqual(current, secret)) {
        return { outcome: 'unchanged', same: authenticator };
      }
    } finally {
      current.fill(0);
    }
  }
  return { outcome: overwrite ? 'imported' : 'conflict' };
}

/**
 * The login's parameters (cPanel's and most panels': SHA1, 6 digits, 30 s), the secret
 * sealed like setup's, confirmed now, with no recovery codes; labelled with its panel's name.
 */
function enrolment(
  keys: TenantKeys,
  tenantId: string,
  userId: string,
  secret: Uint8Array,
  nowMs: number,
  from: {
    format: ImportFormat;
    line: ReadLogin;
    issuer: string;
    origin: ImportOrigin;
  },
): Authenticator {
  const id = newAuthenticatorId();
  const { label, weaknesses } = IMPORT_FORMATS[from.format];
  return {
    id,
    sealedSecret: sealSecret(keys, { tenantId, userId, enrolmentId: id }, secret),
    ...from.line.parameters,
    issuer: from.line.issuer ?? from.issuer,
    accountName: from.line.accountName ?? userId,
    label,
    createdAt: nowMs,
    confirmedAt: nowMs,
    source: 'import',
    importedFrom: from.format,
    ...(weaknesses.length > 0 ? { weakReasons: [...weaknesses] } : {}),
    secretBytes: secret.length,
    origin: from.origin,
  };
}

/**
 * Runs `work` on every item, at most `limit` at a time. After a failure no new item
 * starts, and the first error is thrown only once every item in flight has settled:
 * nothing of the call goes on working after its answer.
 */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      try {
        await work(items[next++] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  addToTotals,
  type Contribution,
  contribution,
  decodeContribution,
  encodeContribution,
  type EnrolmentTotals,
  prefixCount,
  toSeconds,
  treePath,
  zeroTotals,
} from '../domain/enrolment.ts';
import type { UserRecord } from '../domain/user.ts';
import { serviceUnavailable } from '../errors.ts';
import { authenticatorsAre, composeUpdate, joinParts, type UpdateParts } from './conditions.ts';
import type { DynamoTable } from './dynamoTable.ts';
import { N, num } from './items.ts';
import type { EnrolmentStore, WriteResult } from './port.ts';
import {
  enrolledParts,
  markForCounting,
  REGISTRATION_STATE,
  TWO_FACTOR_STATE,
  unenrolledParts,
} from './registration.ts';
import {
  countingDirectory,
  enrolmentMetaKey,
  enrolmentNodeKey,
  LIST_INDEX,
  TENANT_INDEX,
  TTL_ATTRIBUTE,
  userKey,
} from './table.ts';
import { ATTR, userFromItem } from './userItem.ts';
import type { SecurityEvent } from '../domain/webhooks.ts';
import { outboxAttributes, userOutbox } from './outboxItems.ts';

/**
 * A tenant's enrolment counts, exact at bounded cost (docs/api.md, "Enrolment
 * requirement"; the arithmetic is lib/domain/enrolment.ts).
 *
 * A user's write only marks it for counting (registration.ts), in the same write as
 * the change: nothing to lose between two writes. A *fold* counts marked users later,
 * in steps that may each be cut and are each safe to repeat:
 * 1. it writes its plan, the intent, into the tenant's META item under the next
 *    sequence number (one fold at a time: the write is conditional);
 * 2. it adds the plan's deltas to the tree nodes, each conditioned on not holding
 *    that sequence number yet;
 * 3. it records on each user what it is now counted as, under the same number;
 * 4. it adds the totals and removes the intent in one write of META.
 * Whoever finds an intent finishes it. A reader adds what is not folded yet (the
 * intent's unapplied parts and the marked users) to what is, so the counts are
 * exact between folds too.
 */

type Item = Record<string, AttributeValue>;

interface Intent {
  seq: number;
  /** When it was claimed (ms): its fold finishes it; others only once it is stale. */
  at?: number;
  users: { userId: string; token: string; counted: string | null }[];
  /** `<kind>#<level>#<node>` → digit → delta. */
  nodes: Record<string, Record<string, number>>;
  totals: EnrolmentTotals;
}

interface Meta {
  seq: number;
  intent?: Intent;
  totals: EnrolmentTotals;
  /** Every user enrolled before counting existed has been marked for counting. */
  backfilled: boolean;
  backfillAfter?: string;
}

const nodeName = (kind: 'rule' | 'own', level: number, node: number) => `${kind}#${level}#${node}`;

function metaFromItem(item: Item | undefined): Meta | undefined {
  if (!item) return undefined;
  const meta: Meta = {
    seq: num(item.seq) ?? 0,
    totals: {
      enrolled: num(item.enrolled) ?? 0,
      exempt: num(item.exempt) ?? 0,
      rule: num(item.rule) ?? 0,
      own: num(item.own) ?? 0,
    },
    backfilled: item.backfilled?.BOOL === true,
  };
  if (item.intent?.S) meta.intent = JSON.parse(item.intent.S) as Intent;
  if (item.backfillAfter?.S) meta.backfillAfter = item.backfillAfter.S;
  return meta;
}

const contributionOf = (user: UserRecord | undefined) =>
  user === undefined ? undefined : contribution(user.authenticators.length > 0, user.registration);

/** Adds `sign` × `c` to the node deltas along its time's path. */
function addToNodes(nodes: Intent['nodes'], c: Contribution | undefined, sign: 1 | -1) {
  if (c === undefined || (c.kind !== 'rule' && c.kind !== 'own')) return;
  for (const { level, node, digit } of treePath(c.at)) {
    const deltas = (nodes[nodeName(c.kind, level, node)] ??= {});
    deltas[digit] = (deltas[digit] ?? 0) + sign;
  }
}

/** Whether `c` counts as overdue under the bounds (a rule bound undefined: none do). */
function overdueOf(c: Contribution | undefined, bounds: { own: number; rule: number | undefined }) {
  if (c?.kind === 'own') return { own: c.at <= bounds.own ? 1 : 0, rule: 0 };
  if (c?.kind === 'rule' && bounds.rule !== undefined) return { own: 0, rule: c.at <= bounds.rule ? 1 : 0 };
  return { own: 0, rule: 0 };
}

const FOLD_LIMIT = 100;
/**
 * A fold left unfinished this long was cut (a request runs at most API Gateway's
 * 30 s). Before that, other folds leave it to its owner: helping would repeat every
 * one of its writes, for each concurrent request. The reader counts its unapplied parts.
 */
const INTENT_STALE_MS = 30_000;
/** A reader adds at most this many marked users itself; past it, it folds first. */
const READ_BACKLOG = 1000;

export const enrolmentItems = (t: DynamoTable): EnrolmentStore => {
  const getMeta = async (tenantId: string) =>
    metaFromItem(
      (
        await t.send(
          t.call(
            new GetItemCommand({ TableName: t.table, Key: enrolmentMetaKey(tenantId), ConsistentRead: true }),
          ),
        )
      ).Item,
    );

  /** Up to `limit` user ids marked for counting, in user-id order (the index is eventually consistent). */
  async function markedUsers(tenantId: string, limit: number): Promise<{ userIds: string[]; more: boolean }> {
    const userIds: string[] = [];
    let start: Item | undefined;
    do {
      const out = await t.send(
        t.call(
          new QueryCommand({
            TableName: t.table,
            IndexName: TENANT_INDEX,
            KeyConditionExpression: 'directory = :directory',
            ExpressionAttributeValues: { ':directory': { S: countingDirectory(tenantId) } },
            ProjectionExpression: 'directoryId',
            Limit: limit - userIds.length,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of out.Items ?? []) if (item.directoryId?.S) userIds.push(item.directoryId.S);
      start = out.LastEvaluatedKey;
    } while (start && userIds.length < limit);
    return { userIds, more: start !== undefined };
  }

  async function applyIntent(tenantId: string, intent: Intent): Promise<void> {
    const seq = N(intent.seq);
    await Promise.all(
      Object.entries(intent.nodes).map(async ([node, deltas]) => {
        const adds = Object.entries(deltas).filter(([, delta]) => delta !== 0);
        if (adds.length === 0) return;
        await t.conditional(
          new UpdateItemCommand({
            TableName: t.table,
            Key: enrolmentNodeKey(tenantId, node),
            UpdateExpression: `SET seq = :seq ADD ${adds.map(([digit]) => `d${digit} :d${digit}`).join(', ')}`,
            ConditionExpression: 'attribute_not_exists(seq) OR seq < :seq',
            ExpressionAttributeValues: {
              ':seq': seq,
              ...Object.fromEntries(adds.map(([d, v]) => [`:d${d}`, N(v)])),
            },
          }),
        );
      }),
    );
    await Promise.all(intent.users.map((u) => recordCounted(tenantId, u, seq)));
    const { enrolled, exempt, rule, own } = intent.totals;
    await t.conditional(
      new UpdateItemCommand({
        TableName: t.table,
        Key: enrolmentMetaKey(tenantId),
        UpdateExpression: 'REMOVE intent ADD enrolled :e, exempt :x, #rule :r, #own :o',
        ConditionExpression: 'seq = :seq AND attribute_exists(intent)',
        ExpressionAttributeNames: { '#rule': 'rule', '#own': 'own' },
        ExpressionAttributeValues: {
          ':seq': seq,
          ':e': N(enrolled),
          ':x': N(exempt),
          ':r': N(rule),
          ':o': N(own),
        },
      }),
    );
  }

  /**
   * Step 3 for one user: what it is counted as, under the fold's number (a slower
   * helper of an earlier fold never writes over a later one). The mark goes only if
   * no write came since the fold read the user; an item left holding nothing is deleted.
   */
  async function recordCounted(tenantId: string, u: Intent['users'][number], seq: AttributeValue) {
    const key = userKey(tenantId, u.userId);
    const counted: UpdateParts =
      u.counted === null
        ? { remove: [ATTR.counted], set: ['countedSeq = :seq'], values: { ':seq': seq } }
        : {
            set: [`${ATTR.counted} = :counted`, 'countedSeq = :seq'],
            values: { ':counted': { S: u.counted }, ':seq': seq },
          };
    const notLater: UpdateParts = {
      conditions: ['attribute_exists(pk)', '(attribute_not_exists(countedSeq) OR countedSeq <= :seq)'],
    };
    const update = (parts: UpdateParts) =>
      t.conditional(new UpdateItemCommand({ TableName: t.table, Key: key, ...composeUpdate(parts) }));
    const unmarked = await update(
      joinParts(counted, notLater, {
        remove: ['directory', 'directoryId', ATTR.dirtyToken],
        conditions: [`${ATTR.dirtyToken} = :token`],
        values: { ':token': { S: u.token } },
      }),
    );
    if (!unmarked) {
      await update(joinParts(counted, notLater));
      return;
    }
    if (u.counted !== null) return;
    // Forgotten (or never registered): nothing left to keep, unless a write came since.
    await t.conditional(
      new DeleteItemCommand({
        TableName: t.table,
        Key: key,
        ConditionExpression: [
          ATTR.counted,
          ATTR.dirtyToken,
          ATTR.registeredAt,
          ATTR.authenticators,
          ATTR.legacyActive,
          'pending',
          // Events not yet published: the item carries them (lib/store/outboxItems.ts).
          'outbox',
        ]
          .map((name) => `attribute_not_exists(${name})`)
          .join(' AND '),
      }),
    );
  }

  return {
    async register(user, change, nowMs) {
      const exempt = change.exempt ?? user.registration?.exempt ?? false;
      const dueAt: UpdateParts =
        change.dueAt === undefined
          ? {}
          : change.dueAt === null
            ? { remove: [ATTR.ownDueAt] }
            : { set: [`${ATTR.ownDueAt} = :ownDueAt`], values: { ':ownDueAt': N(change.dueAt) } };
      const registration =
        user.authenticators.length > 0
          ? joinParts(enrolledParts(user, nowMs), {
              set: [`${ATTR.exempt} = :exempt`],
              values: { ':exempt': { BOOL: exempt } },
            })
          : unenrolledParts(user, nowMs, { value: exempt, sets: true }, toSeconds(nowMs), false);
      // The user as written answers the request: no read after the write.
      const result = await t.updateUser(user, {
        ...composeUpdate(joinParts(registration, dueAt, authenticatorsAre(user))),
        ReturnValues: 'ALL_NEW',
      });
      if (!result.applied) return result;
      const written = result.attributes && userFromItem(result.attributes);
      if (!written) throw new Error('the registration wrote no user');
      return { applied: true, user: written };
    },

    async retireUser(
      user: UserRecord,
      forget: boolean,
      nowMs: number,
      events: readonly SecurityEvent[] = [],
    ): Promise<WriteResult> {
      const stays = !forget && (user.authenticators.length > 0 || user.registration !== undefined);
      if (stays) {
        const exempt = user.registration?.exempt ?? false;
        return t.updateUser(
          user,
          composeUpdate(
            joinParts(
              { remove: TWO_FACTOR_STATE },
              unenrolledParts(
                user,
                nowMs,
                { value: exempt, sets: false },
                toSeconds(nowMs),
                user.authenticators.length > 0,
              ),
              authenticatorsAre(user),
              userOutbox(user, events),
            ),
          ),
        );
      }
      if (user.counting !== undefined) {
        // Counted, or about to be: the item stays, holding nothing, until a fold has
        // taken the user out of the counts (and then deletes it).
        return t.updateUser(
          user,
          composeUpdate(
            joinParts(
              {
                remove: [...TWO_FACTOR_STATE, ...REGISTRATION_STATE],
                conditions: ['attribute_exists(pk)'],
              },
              markForCounting(user),
              authenticatorsAre(user),
              userOutbox(user, events),
            ),
          ),
        );
      }
      const { ConditionExpression, ExpressionAttributeValues } = composeUpdate(
        joinParts(authenticatorsAre(user), {
          conditions: [`attribute_not_exists(${ATTR.counted})`, `attribute_not_exists(${ATTR.dirtyToken})`],
        }),
      );
      const key = userKey(user.tenantId, user.userId);
      const condition = {
        ConditionExpression,
        ...(ExpressionAttributeValues ? { ExpressionAttributeValues } : {}),
      };
      // With events, an empty item holds them until published (and expires a week on):
      // to a reader, a user that holds nothing, as after a pending enrolment expired.
      const applied = await t.conditional(
        events.length === 0
          ? new DeleteItemCommand({ TableName: t.table, Key: key, ...condition })
          : new PutItemCommand({
              TableName: t.table,
              Item: {
                ...key,
                [TTL_ATTRIBUTE]: N(toSeconds(nowMs) + 7 * 86_400),
                ...outboxAttributes(key.pk.S, events),
              },
              ...condition,
            }),
      );
      return applied ? { applied: true } : { applied: false };
    },

    async startCounting(tenantId: string): Promise<void> {
      await t.conditional(
        new PutItemCommand({
          TableName: t.table,
          Item: { ...enrolmentMetaKey(tenantId), seq: N(0), backfilled: { BOOL: true } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    },

    async backfillCounting(tenantId: string, pages: number): Promise<boolean> {
      const meta = await getMeta(tenantId);
      if (meta?.backfilled) return true;
      let after = meta?.backfillAfter;
      for (let page = 0; page < pages; page++) {
        const out = await t.send(
          t.call(
            new QueryCommand({
              TableName: t.table,
              IndexName: LIST_INDEX,
              KeyConditionExpression: 'listTenant = :tenant',
              ExpressionAttributeValues: { ':tenant': { S: tenantId } },
              ProjectionExpression: 'listUser',
              Limit: 200,
              ExclusiveStartKey:
                after === undefined
                  ? undefined
                  : { listTenant: { S: tenantId }, listUser: { S: after }, ...userKey(tenantId, after) },
            }),
          ),
        );
        // Users enrolled before counting existed: marked, so that the next fold counts them.
        await Promise.all(
          (out.Items ?? []).map((item) => {
            const user = { tenantId, userId: item.listUser?.S ?? '' } as UserRecord;
            return t.conditional(
              new UpdateItemCommand({
                TableName: t.table,
                Key: userKey(tenantId, user.userId),
                ...composeUpdate(
                  joinParts(markForCounting(user), {
                    conditions: [
                      `attribute_not_exists(${ATTR.counted})`,
                      `attribute_not_exists(${ATTR.dirtyToken})`,
                      `(attribute_exists(${ATTR.authenticators}) OR attribute_exists(${ATTR.legacyActive}))`,
                    ],
                  }),
                ),
              }),
            );
          }),
        );
        after = out.Items?.at(-1)?.listUser?.S ?? after;
        const done = out.LastEvaluatedKey === undefined;
        await t.send(
          t.call(
            new UpdateItemCommand({
              TableName: t.table,
              Key: enrolmentMetaKey(tenantId),
              ...composeUpdate({
                set: done ? ['backfilled = :true'] : ['backfillAfter = :after'],
                values: done ? { ':true': { BOOL: true } } : { ':after': { S: after ?? '' } },
              }),
            }),
          ),
        );
        if (done) return true;
      }
      return false;
    },

    async foldCounts(tenantId: string, nowMs: number): Promise<{ more: boolean }> {
      const meta = (await getMeta(tenantId)) ?? { seq: 0, totals: zeroTotals(), backfilled: false };
      if (meta.intent) {
        if (meta.intent.at !== undefined && nowMs - meta.intent.at < INTENT_STALE_MS) return { more: false };
        await applyIntent(tenantId, meta.intent);
        return { more: true };
      }
      const marked = await markedUsers(tenantId, FOLD_LIMIT);
      if (marked.userIds.length === 0) return { more: false };
      const items = (await t.batchGet(marked.userIds.map((id) => userKey(tenantId, id)))).get(t.table) ?? [];
      const intent: Intent = { seq: meta.seq + 1, at: nowMs, users: [], nodes: {}, totals: zeroTotals() };
      for (const item of items) {
        const token = item[ATTR.dirtyToken]?.S;
        const user = userFromItem(item);
        if (token === undefined || user === undefined) continue;
        const now = contributionOf(user);
        const was = decodeContribution(user.counting?.counted);
        intent.users.push({ userId: user.userId, token, counted: encodeContribution(now) ?? null });
        if (encodeContribution(now) === encodeContribution(was)) continue;
        addToTotals(intent.totals, was, -1);
        addToTotals(intent.totals, now, 1);
        addToNodes(intent.nodes, was, -1);
        addToNodes(intent.nodes, now, 1);
      }
      const claimed = await t.conditional(
        new UpdateItemCommand({
          TableName: t.table,
          Key: enrolmentMetaKey(tenantId),
          UpdateExpression: 'SET seq = :next, intent = :intent',
          ConditionExpression: '(attribute_not_exists(seq) OR seq = :prev) AND attribute_not_exists(intent)',
          ExpressionAttributeValues: {
            ':next': N(intent.seq),
            ':intent': { S: JSON.stringify(intent) },
            ':prev': N(meta.seq),
          },
        }),
      );
      // Another fold holds the tenant: the marked users are its to count, or the next one's.
      if (!claimed) return { more: false };
      await applyIntent(tenantId, intent);
      return { more: marked.more || marked.userIds.length === FOLD_LIMIT };
    },

    async readCounts(tenantId, bounds) {
      const keys = [
        ...treePath(bounds.own).map(({ level, node }) => nodeName('own', level, node)),
        ...(bounds.rule === undefined
          ? []
          : treePath(bounds.rule).map(({ level, node }) => nodeName('rule', level, node))),
      ];
      for (let attempt = 0; attempt < 3; attempt++) {
        const first =
          (
            await t.batchGet([enrolmentMetaKey(tenantId), ...keys.map((k) => enrolmentNodeKey(tenantId, k))])
          ).get(t.table) ?? [];
        const metaItem = first.find((item) => item.sk?.S === 'META');
        const meta = metaFromItem(metaItem) ?? { seq: 0, totals: zeroTotals(), backfilled: false };
        const marked = await markedUsers(tenantId, READ_BACKLOG);
        if (marked.more) return 'backlog';
        const second =
          (
            await t.batchGet([
              enrolmentMetaKey(tenantId),
              ...marked.userIds.map((id) => userKey(tenantId, id)),
            ])
          ).get(t.table) ?? [];
        const again = metaFromItem(second.find((item) => item.sk?.S === 'META'));
        // A fold moved on between the reads: read again, so that nothing counts twice.
        if ((again?.seq ?? 0) !== meta.seq || (again?.intent === undefined) !== (meta.intent === undefined))
          continue;

        const intent = meta.intent;
        const totals = { ...meta.totals };
        if (intent)
          for (const kind of ['enrolled', 'exempt', 'rule', 'own'] as const)
            totals[kind] += intent.totals[kind];
        const nodes = new Map(
          first
            .filter((item) => item.sk?.S?.startsWith('NODE#'))
            .map((item) => [item.sk?.S?.slice(5) ?? '', item]),
        );
        const child = (kind: 'rule' | 'own') => (level: number, node: number, digit: number) => {
          const name = nodeName(kind, level, node);
          const item = nodes.get(name);
          const stored = num(item?.[`d${digit}`]) ?? 0;
          const pending =
            intent && (num(item?.seq) ?? 0) < intent.seq ? (intent.nodes[name]?.[digit] ?? 0) : 0;
          return stored + pending;
        };
        const overdue = {
          own: prefixCount(bounds.own, child('own')),
          rule: bounds.rule === undefined ? 0 : prefixCount(bounds.rule, child('rule')),
        };
        const inIntent = new Map(intent?.users.map((u) => [u.userId, u.counted]) ?? []);
        for (const item of second) {
          const user = item.sk?.S === 'USER' ? userFromItem(item) : undefined;
          if (!user || item[ATTR.dirtyToken]?.S === undefined) continue;
          const planned = inIntent.get(user.userId);
          const was = decodeContribution(
            planned === undefined ? user.counting?.counted : (planned ?? undefined),
          );
          const now = contributionOf(user);
          if (encodeContribution(now) === encodeContribution(was)) continue;
          addToTotals(totals, was, -1);
          addToTotals(totals, now, 1);
          const before = overdueOf(was, bounds);
          const after = overdueOf(now, bounds);
          overdue.own += after.own - before.own;
          overdue.rule += after.rule - before.rule;
        }
        return { totals, overdue };
      }
      throw serviceUnavailable('the enrolment counts');
    },
  };
};

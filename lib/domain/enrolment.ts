/** The tenant's policy (settings.ts imports this module: no import back). */
type Policy = 'enabled' | 'disabled';

/**
 * The enrolment requirement (docs/api.md, "Enrolment requirement"): who is expected to
 * enrol, by when, and how the tenant's counts are kept exact at any size.
 *
 * A user stores only what does not move: when it was registered, since when it has
 * been without an authenticator, its own due date and its exemption. The tenant's
 * deadline and grace period are applied when the state is read, so a change of them
 * moves every user at once without rewriting any. Times that decide a due date are
 * kept to the whole second, the unit the counts are kept in (counting below).
 */
export interface Registration {
  /** When the user was registered (ms); registering again keeps it. */
  registeredAt: number;
  /** Unix seconds since the user has been registered without an authenticator; absent while it has one. */
  unenrolledSince?: number;
  /** The user's own due date, Unix seconds; absent: the tenant's rule. */
  dueAt?: number;
  exempt: boolean;
}

export interface EnrolmentSettings {
  required: boolean;
  /** ISO 8601 UTC, or null. */
  deadline: string | null;
  graceDays: number;
}

export const defaultEnrolment = (): EnrolmentSettings => ({ required: false, deadline: null, graceDays: 14 });

export type EnrolmentState = 'enrolled' | 'exempt' | 'due' | 'overdue' | 'not_required' | 'unregistered';

/** What a user adds to its tenant's counts; undefined: nothing (not registered). */
export type Contribution =
  | { kind: 'enrolled' }
  | { kind: 'exempt' }
  /** Unenrolled under the tenant's rule, since `at` (seconds). */
  | { kind: 'rule'; at: number }
  /** Unenrolled with its own due date `at` (seconds). */
  | { kind: 'own'; at: number };

const DAY_SECONDS = 86_400;

/** Whole seconds, rounded up: a due date is never earlier than the one asked for. */
export const toSeconds = (ms: number) => Math.ceil(ms / 1000);

export function contribution(
  enrolled: boolean,
  registration: Registration | undefined,
): Contribution | undefined {
  if (enrolled) return { kind: 'enrolled' };
  if (registration === undefined) return undefined;
  if (registration.exempt) return { kind: 'exempt' };
  if (registration.dueAt !== undefined) return { kind: 'own', at: registration.dueAt };
  return { kind: 'rule', at: registration.unenrolledSince ?? toSeconds(registration.registeredAt) };
}

/**
 * Whether a write that leaves the user with an authenticator changes what it counts
 * as: not for a user counted as enrolled already (an add, a replace).
 */
export const enrollingCounts = (user: { authenticators: unknown[]; counting?: { counted?: string } }) =>
  user.authenticators.length === 0 || user.counting?.counted !== 'e';

/** A contribution as one short string: what the store keeps as "counted". */
export const encodeContribution = (c: Contribution | undefined): string | undefined =>
  c === undefined
    ? undefined
    : c.kind === 'enrolled'
      ? 'e'
      : c.kind === 'exempt'
        ? 'x'
        : `${c.kind === 'rule' ? 'r' : 'o'}:${c.at}`;

export function decodeContribution(s: string | undefined): Contribution | undefined {
  if (s === undefined || s === '') return undefined;
  if (s === 'e') return { kind: 'enrolled' };
  if (s === 'x') return { kind: 'exempt' };
  const at = Number(s.slice(2));
  return s.startsWith('r:') ? { kind: 'rule', at } : { kind: 'own', at };
}

/** Whether the requirement is in force: required, and the policy enabled. */
export const requirementOn = (settings: { policy: Policy; enrolment: EnrolmentSettings }) =>
  settings.enrolment.required && settings.policy === 'enabled';

const deadlineSeconds = (e: EnrolmentSettings) =>
  e.deadline === null ? undefined : toSeconds(Date.parse(e.deadline));

/** The due date (seconds) of an unenrolled contribution under the tenant's rule. */
export function dueSeconds(c: Contribution & { kind: 'rule' | 'own' }, e: EnrolmentSettings): number {
  if (c.kind === 'own') return c.at;
  const graceEnds = c.at + e.graceDays * DAY_SECONDS;
  const deadline = deadlineSeconds(e);
  return deadline === undefined ? graceEnds : Math.max(deadline, graceEnds);
}

/** `overdue` exactly when the due second has begun: the same test the counts make. */
export const isOverdue = (dueAt: number, nowMs: number) => dueAt <= Math.floor(nowMs / 1000);

export function enrolmentView(
  enrolled: boolean,
  registration: Registration | undefined,
  settings: { policy: Policy; enrolment: EnrolmentSettings },
  nowMs: number,
): { registered: boolean; enrolment: { state: EnrolmentState; dueAt: string | null; mustEnrol: boolean } } {
  const c = contribution(enrolled, registration);
  const view = (state: EnrolmentState, dueAt: number | null = null) => ({
    registered: c !== undefined,
    enrolment: {
      state,
      dueAt: dueAt === null ? null : new Date(dueAt * 1000).toISOString(),
      mustEnrol: state === 'overdue',
    },
  });
  if (c === undefined) return view('unregistered');
  if (c.kind === 'enrolled') return view('enrolled');
  if (c.kind === 'exempt') return view('exempt');
  if (!requirementOn(settings)) return view('not_required');
  const due = dueSeconds(c, settings.enrolment);
  return view(isOverdue(due, nowMs) ? 'overdue' : 'due', due);
}

/**
 * Thresholds of "overdue" at `nowMs`, as prefix bounds over the counted times: users
 * with their own date at or before `own`, and users under the rule unenrolled at or
 * before `rule` (undefined: none of them, the deadline is still ahead).
 */
export function overdueBounds(
  e: EnrolmentSettings,
  nowMs: number,
): { own: number; rule: number | undefined } {
  const now = Math.floor(nowMs / 1000);
  const deadline = deadlineSeconds(e);
  return {
    own: now,
    rule: deadline !== undefined && deadline > now ? undefined : now - e.graceDays * DAY_SECONDS,
  };
}

/** The report of GET /v1/enrolment. */
export interface EnrolmentCounts {
  registered: number;
  enrolled: number;
  unenrolled: number;
  due: number;
  overdue: number;
  exempt: number;
}

/** Counters kept per tenant: totals per kind; the times live in the prefix trees below. */
export interface EnrolmentTotals {
  enrolled: number;
  exempt: number;
  rule: number;
  own: number;
}

export const zeroTotals = (): EnrolmentTotals => ({ enrolled: 0, exempt: 0, rule: 0, own: 0 });

export function addToTotals(totals: EnrolmentTotals, c: Contribution | undefined, sign: 1 | -1) {
  if (c !== undefined) totals[c.kind] += sign;
}

export function countsOf(
  totals: EnrolmentTotals,
  overdue: { own: number; rule: number },
  on: boolean,
): EnrolmentCounts {
  const unenrolled = totals.rule + totals.own;
  const late = on ? overdue.own + overdue.rule : 0;
  return {
    registered: totals.enrolled + totals.exempt + unenrolled,
    enrolled: totals.enrolled,
    unenrolled,
    due: on ? unenrolled - late : 0,
    overdue: late,
    exempt: totals.exempt,
  };
}

/**
 * Prefix counts over time at bounded cost: a tree of fan-out 64 over Unix seconds,
 * 7 levels deep (64^7 s reaches past the year 100,000). Each node keeps one count per
 * child; a time adds to one child of one node per level, and "how many at or before
 * T" sums the children left of T's path at each level plus T's own second: 7 nodes
 * read, whatever the number of users or of distinct times (a million users registered
 * in one second are one count in each of 7 nodes).
 */
export const TREE_FANOUT = 64;
export const TREE_LEVELS = 7;
const SPAN = TREE_FANOUT ** TREE_LEVELS;

export const clampSeconds = (t: number) => Math.min(Math.max(Math.floor(t), 0), SPAN - 1);

/** The node (level, index) and child digit on `t`'s path at every level, root first. */
export function treePath(t: number): { level: number; node: number; digit: number }[] {
  const at = clampSeconds(t);
  return Array.from({ length: TREE_LEVELS }, (_, level) => {
    const below = TREE_FANOUT ** (TREE_LEVELS - level - 1);
    return {
      level,
      node: Math.floor(at / (below * TREE_FANOUT)),
      digit: Math.floor(at / below) % TREE_FANOUT,
    };
  });
}

/** `#{t ≤ bound}` from the nodes on bound's path (`childCount(level, node, digit)`). */
export function prefixCount(
  bound: number,
  childCount: (level: number, node: number, digit: number) => number,
): number {
  if (bound < 0) return 0;
  let total = 0;
  for (const { level, node, digit } of treePath(bound)) {
    const last = level === TREE_LEVELS - 1 ? digit : digit - 1;
    for (let d = 0; d <= last; d++) total += childCount(level, node, d);
  }
  return total;
}

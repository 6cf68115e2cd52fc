/** The audit trail's words: what happened, to whom, by whom. Never a secret or a code. */
export const AUDIT_ACTIONS = [
  'setup',
  'confirm',
  'verify',
  'remove',
  'recovery_codes',
  'unlock',
  'lockout',
  'settings',
  'key_create',
  'key_delete',
  'import',
  'register',
  'authenticator_remove',
  'authenticator_rename',
  'webhook_create',
  'webhook_update',
  'webhook_delete',
  'webhook_rotate',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What a use case says happened. Never a secret or a code: only names, ids and outcomes. */
export interface AuditEntry {
  action: AuditAction;
  userId?: string;
  /** `success`, or why not: `invalid_code`, `replayed`, `locked`, `disabled`, `not_found`. */
  outcome: string;
  reason?: string;
  /** The authenticator the event concerns, when it concerns one. */
  authenticatorId?: string;
}

export interface AuditEvent extends AuditEntry {
  tenantId: string;
  at: number;
  actor: { keyId: string; name: string };
  requestId: string;
  /**
   * Makes the event's key its own rather than random: writing it again changes
   * nothing. An import's event has one, so a rerun can write the event a crashed
   * import left unwritten, and never a second.
   */
  eventId?: string;
}

/** An event as the API shows it (GET /v1/audit) and as a failed write logs it. */
export const auditView = (event: AuditEvent) => ({
  at: new Date(event.at).toISOString(),
  action: event.action,
  userId: event.userId ?? null,
  actor: event.actor,
  outcome: event.outcome,
  ...(event.reason === undefined ? {} : { reason: event.reason }),
  ...(event.authenticatorId === undefined ? {} : { authenticatorId: event.authenticatorId }),
  requestId: event.requestId,
});

/** Who imported an authenticator, kept on it so that its `import` event can always be written. */
export interface ImportOrigin {
  requestId: string;
  keyId: string;
  keyName: string;
  /** `overwrite` when it replaced another authenticator. */
  reason?: 'overwrite';
}

/** The `import` event of an imported authenticator, the same every time it is built. */
export const importEvent = (
  tenantId: string,
  userId: string,
  enrolment: { id: string; confirmedAt: number; origin: ImportOrigin },
): AuditEvent => ({
  tenantId,
  userId,
  action: 'import',
  outcome: 'success',
  ...(enrolment.origin.reason === undefined ? {} : { reason: enrolment.origin.reason }),
  at: enrolment.confirmedAt,
  actor: { keyId: enrolment.origin.keyId, name: enrolment.origin.keyName },
  requestId: enrolment.origin.requestId,
  authenticatorId: enrolment.id,
  eventId: enrolment.id,
});

/** The audit trail's words: what happened, to whom, by whom. Never a secret or a code. */
export type AuditAction =
  | 'setup'
  | 'confirm'
  | 'verify'
  | 'remove'
  | 'recovery_codes'
  | 'unlock'
  | 'lockout'
  | 'settings'
  | 'key_create'
  | 'key_delete'
  | 'import';

/** What a use case says happened. Never a secret or a code: only names, ids and outcomes. */
export interface AuditEntry {
  action: AuditAction;
  userId?: string;
  /** `success`, or why not: `invalid_code`, `replayed`, `locked`, `disabled`, `not_found`. */
  outcome: string;
  reason?: string;
}

export interface AuditEvent extends AuditEntry {
  tenantId: string;
  at: number;
  actor: { keyId: string; name: string };
  requestId: string;
}

/** An event as the API shows it (GET /v1/audit) and as a failed write logs it. */
export const auditView = (event: AuditEvent) => ({
  at: new Date(event.at).toISOString(),
  action: event.action,
  userId: event.userId ?? null,
  actor: event.actor,
  outcome: event.outcome,
  ...(event.reason === undefined ? {} : { reason: event.reason }),
  requestId: event.requestId,
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { Schemas } from '../../client/tfaClient.ts';
import { AUDIT_ACTIONS, type AuditAction } from '../../lib/domain/audit.ts';
import { EVENT_TYPES } from '../../lib/domain/webhooks.ts';
import { EVENT_TYPES as CLIENT_EVENT_TYPES } from '../../client/tfaClient.ts';
import { PROJECT_ROOT } from '../../lib/local/service.ts';

/**
 * Lists kept in two places agree by construction: the compiler holds the types (a
 * mismatch does not compile: `npm test` runs tsc over test/), and the test the values.
 */

/** true only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const auditActionsAgree: Equal<AuditAction, Schemas['AuditEvent']['action']> = true;

describe('lists that must agree', () => {
  it("the audit actions are the spec's enum", () => {
    assert.equal(auditActionsAgree, true);
    const spec = parse(readFileSync(join(PROJECT_ROOT, 'openapi.yaml'), 'utf8'));
    const actions: string[] = spec.components.schemas.AuditEvent.properties.action.enum;
    assert.deepEqual([...actions].sort(), [...AUDIT_ACTIONS].sort());
  });

  it("the security events' types are the spec's enum, in the service and in the client", () => {
    const spec = parse(readFileSync(join(PROJECT_ROOT, 'openapi.yaml'), 'utf8'));
    const types: string[] = spec.components.schemas.EventType.enum;
    assert.deepEqual([...EVENT_TYPES], types);
    assert.deepEqual([...CLIENT_EVENT_TYPES], types);
  });
});

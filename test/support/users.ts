import assert from 'node:assert/strict';
import { codeFor, freshStep } from './otp.ts';
import type { Schemas } from '../../client/tfaClient.ts';
import type { ApiClient, Reply } from './service.ts';

/**
 * The one way to assert an error: exactly the contract's shape
 * (`{"error": {"code", "message"}}` and nothing else), its status and code, a request
 * id; and, when given, what the message must mention.
 */
export function assertError(reply: Reply, status: number, code: string, mentions?: string | RegExp) {
  assert.equal(reply.status, status, reply.text);
  assert.deepEqual(Object.keys(reply.body ?? {}), ['error'], reply.text);
  assert.deepEqual(Object.keys(reply.body.error).sort(), ['code', 'message'], reply.text);
  assert.equal(reply.body.error.code, code, reply.text);
  assert.equal(typeof reply.body.error.message, 'string');
  if (mentions !== undefined) assert.match(reply.body.error.message, new RegExp(mentions));
  assert.ok(reply.headers.get('x-request-id'), 'every answer carries a request id');
}

export interface Enrolled {
  /** The setup's answer: secret, URI, QR codes, parameters, the authenticator's id and label. */
  setup: Schemas['Setup'];
  /** The confirm's: none for an `add` or a `replace`, which keep the codes the user has. */
  recoveryCodes: string[];
}

/**
 * The one way to enrol a user: setup through the API, then confirm with the code an
 * app would show now. The confirm's time step is then used, so the next code to
 * verify is `codeFor(setup, 1)`. `setupBody` is sent as it is (accountName, label, reconfigure,
 * add, replace).
 */
export async function enrol(
  client: ApiClient,
  key: string,
  userId: string,
  setupBody?: Schemas['SetupRequest'],
): Promise<Enrolled> {
  await freshStep();
  const users = client.typed(key).users;
  const setup = await users.setup(userId, setupBody);
  const confirmed = await users.confirm(userId, codeFor(setup));
  return { setup, recoveryCodes: confirmed.recoveryCodes ?? [] };
}

export interface TenantKeys {
  id: string;
  admin: string;
  users: string;
  support: string;
}

/**
 * The one way to make a tenant for a test that changes or depends on its settings:
 * a tenant of its own, `settings` applied, and a key of each scope.
 */
export async function tenantWith(
  client: ApiClient,
  operatorKey: string,
  id: string,
  settings: Schemas['SettingsChange'],
): Promise<TenantKeys> {
  const admin = await client.tenant(operatorKey, id);
  await client.typed(admin).settings.change(settings);
  return {
    id,
    admin,
    users: await client.key(admin, ['users']),
    support: await client.key(admin, ['support']),
  };
}

/**
 * A verify's answer accepted a TOTP code: of `authenticatorId` when given (else of some
 * authenticator), at a drift within the widest window.
 */
export function assertAccepted(answer: unknown, authenticatorId?: string) {
  const body = answer as Record<string, unknown>;
  assert.deepEqual(
    Object.keys(body).sort(),
    ['authenticatorId', 'driftSteps', 'method', 'valid'],
    JSON.stringify(body),
  );
  assert.equal(body.valid, true);
  assert.equal(body.method, 'totp');
  if (authenticatorId !== undefined)
    assert.equal(body.authenticatorId, authenticatorId, 'the authenticator that matched');
  else assert.equal(typeof body.authenticatorId, 'string');
  assert.ok(Number.isInteger(body.driftSteps) && Math.abs(body.driftSteps as number) <= 3, 'driftSteps');
}

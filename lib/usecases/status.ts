import { type UserRecord, userStatus } from '../domain/user.ts';
import type { TenantContext } from './context.ts';

/**
 * GET /v1/users/{userId}: an unknown user is not an error, and no secret is ever part
 * of it. `clockSkew` only for support and admin keys (`showClockSkew`).
 */
export const getStatus = (
  { deps, tenant }: TenantContext,
  userId: string,
  user: UserRecord | undefined,
  showClockSkew = false,
) => ({
  ...userStatus(user, tenant.settings, deps.now(), showClockSkew),
  userId,
});

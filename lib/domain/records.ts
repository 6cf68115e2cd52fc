import type { TenantSettings } from './settings.ts';

export type Scope = 'users' | 'support' | 'admin';
export const SCOPES: readonly Scope[] = ['users', 'support', 'admin'];

export interface TenantRecord {
  tenantId: string;
  settings: TenantSettings;
  createdAt: number;
  /** The tenant's data key, wrapped by the key vault (KMS or the local key); empty once deleted. */
  wrappedDataKey: Uint8Array;
  /** Bumped by every settings change: the condition of optimistic updates. */
  revision: number;
  /**
   * The ids of the keys that may act as `admin`: a key's admin scope counts only while
   * its id is here, so that "never delete the last admin key" is one conditional write
   * on this item. Undefined for tenants made before the set existed: scopes decide.
   */
  adminKeyIds?: string[];
  /** When the operator deleted the tenant: its data key is gone, its items are being purged. */
  deletedAt?: number;
}

export interface ApiKeyRecord {
  tenantId: string;
  id: string;
  name: string;
  scopes: Scope[];
  /** HMAC-SHA-256 of the key's secret under `salt`: the secret itself is never stored. */
  salt: Uint8Array;
  hash: Uint8Array;
  createdAt: number;
}

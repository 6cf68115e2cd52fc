import { hkdfSync } from 'node:crypto';
import { serviceUnavailable } from '../errors.ts';
import { SealError } from './aesGcm.ts';
import { sameBytes } from './hashes.ts';
import type { KeyVault } from './keyVault.ts';

/** The keys derived from one tenant's data key, one per purpose (HKDF, RFC 5869). */
export interface TenantKeys {
  /** AES-256-GCM key that seals TOTP secrets. */
  secrets: Buffer;
  /** HMAC key for recovery-code hashes. */
  recovery: Buffer;
  /** HMAC key that signs list and audit cursors. */
  cursors: Buffer;
  /** HMAC key of the fingerprints of requests sent with an Idempotency-Key. */
  requests: Buffer;
}

const derive = (dataKey: Buffer, purpose: string) =>
  Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), `tfa/${purpose}`, 32));

/**
 * Opens tenants' data keys through the vault and keeps the derived keys in memory
 * for `maxAgeMs`, so a warm verify makes no KMS call. Entries are keyed by tenant
 * and by the wrapped key itself: a tenant's keys are never served for another
 * tenant, nor for another version of its own data key.
 */
export class TenantKeyring {
  private readonly cache = new Map<string, { wrapped: Buffer; keys: TenantKeys; until: number }>();
  /**
   * Single flight: the unwrap under way for a tenant and wrapped key. Requests that
   * miss the cache at once (a cold start under load) share one key-vault call per
   * tenant instead of each making its own.
   */
  private readonly opening = new Map<string, Promise<TenantKeys>>();

  constructor(
    private readonly vault: KeyVault,
    /** A monotonic clock in milliseconds (lib/deps.ts gives performance.now). */
    private readonly now: () => number,
    private readonly maxAgeMs = 5 * 60_000,
    private readonly observe: (hit: boolean) => void = () => undefined,
  ) {}

  async keysFor(tenantId: string, wrapped: Uint8Array): Promise<TenantKeys> {
    const cached = this.cache.get(tenantId);
    const now = this.now();
    if (cached && cached.until > now && sameBytes(cached.wrapped, wrapped)) {
      this.observe(true);
      return cached.keys;
    }
    this.observe(false);
    const flight = `${tenantId}\0${Buffer.from(wrapped).toString('base64')}`;
    let opening = this.opening.get(flight);
    if (!opening) {
      opening = this.open(tenantId, wrapped, now).finally(() => this.opening.delete(flight));
      this.opening.set(flight, opening);
    }
    return opening;
  }

  private async open(tenantId: string, wrapped: Uint8Array, now: number): Promise<TenantKeys> {
    let dataKey: Buffer;
    try {
      dataKey = await this.vault.unwrapDataKey(tenantId, wrapped);
    } catch (error) {
      // A local key that fails to open is as much an outage as KMS refusing: fail closed.
      if (error instanceof SealError) throw serviceUnavailable('the key service', error);
      throw error;
    }
    const keys = deriveTenantKeys(dataKey);
    dataKey.fill(0);
    this.cache.set(tenantId, { wrapped: Buffer.from(wrapped), keys, until: now + this.maxAgeMs });
    return keys;
  }
}

export function deriveTenantKeys(dataKey: Buffer): TenantKeys {
  return {
    secrets: derive(dataKey, 'secrets'),
    recovery: derive(dataKey, 'recovery'),
    cursors: derive(dataKey, 'cursors'),
    requests: derive(dataKey, 'requests'),
  };
}

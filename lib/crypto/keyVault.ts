/**
 * The port behind which KMS (in AWS) or a local key-encryption key (local mode)
 * makes and opens per-tenant data keys. Callers never know which they hold.
 * Both bind the tenant id to the wrapped key, so tenant A's wrapped key cannot
 * be opened as tenant B's.
 */
export interface KeyVault {
  generateDataKey(tenantId: string): Promise<{ plaintext: Buffer; wrapped: Buffer }>;
  unwrapDataKey(tenantId: string, wrapped: Uint8Array): Promise<Buffer>;
}

export const DATA_KEY_BYTES = 32;

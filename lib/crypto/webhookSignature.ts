import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks 1.0 signing: `v1,` and the base64 HMAC-SHA256 of
 * `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the secret's decoded bytes.
 * During a rotation each delivery carries one signature per secret, space-separated;
 * a receiver accepts the message when any one of them verifies.
 */
const PREFIX = 'whsec_';

/** A new endpoint secret: `whsec_` and the base64 of 32 random bytes. */
export const newWebhookSecret = () => `${PREFIX}${randomBytes(32).toString('base64')}`;

const keyOf = (secret: string) => Buffer.from(secret.slice(PREFIX.length), 'base64');

export function signatureHeader(
  secrets: readonly string[],
  messageId: string,
  timestamp: number,
  body: string,
) {
  return secrets
    .map((secret) => {
      const mac = createHmac('sha256', keyOf(secret))
        .update(`${messageId}.${timestamp}.${body}`)
        .digest('base64');
      return `v1,${mac}`;
    })
    .join(' ');
}

/** The three headers of one delivery attempt (`timestamp` in Unix seconds). */
export function deliveryHeaders(
  secrets: readonly string[],
  messageId: string,
  timestamp: number,
  body: string,
) {
  return {
    'content-type': 'application/json',
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(secrets, messageId, timestamp, body),
  };
}

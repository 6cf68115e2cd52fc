import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { LEASE_MS, REMEMBER_MS, type RequestMemory, type StoredAnswer } from '../domain/idempotency.ts';
import { serviceUnavailable } from '../errors.ts';
import { N, num } from './items.ts';
import type { RequestScope, RequestStore } from './port.ts';
import { requestKey, TTL_ATTRIBUTE } from './table.ts';
import type { DynamoTable } from './dynamoTable.ts';

type Item = Record<string, AttributeValue>;

const keyOf = (scope: RequestScope, slot: string) =>
  requestKey(scope === 'operator' ? undefined : scope.tenantId, slot);

/**
 * The states a begin admits, named: the key is free when no item holds it, when the
 * one there has outlived its 24 hours (TTL deletes late, and dynalite never), or when
 * a request held it in flight and its lease ran out (its process died).
 */
const noItem = 'attribute_not_exists(pk)';
const memoryExpired = 'rememberUntil <= :now';
const leaseOver = '(attribute_not_exists(answerStatus) AND leaseUntil <= :now)';
const keyIsFree = [noItem, memoryExpired, leaseOver].join(' OR ');

/** Requests sent with an Idempotency-Key: one item per scope and key (RequestStore). */
export const requestItems = (t: DynamoTable): RequestStore => ({
  async beginRequest(scope, slot, { fingerprint, token, nowMs }) {
    const Key = keyOf(scope, slot);
    for (let round = 0; round < 3; round++) {
      try {
        await t.send(
          t.call(
            new PutItemCommand({
              TableName: t.table,
              Item: {
                ...Key,
                fingerprint: { B: fingerprint },
                heldBy: { S: token },
                leaseUntil: N(nowMs + LEASE_MS),
                rememberUntil: N(nowMs + REMEMBER_MS),
                [TTL_ATTRIBUTE]: N(Math.ceil((nowMs + REMEMBER_MS) / 1000)),
              },
              ConditionExpression: keyIsFree,
              ExpressionAttributeValues: { ':now': N(nowMs) },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        );
        return undefined;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // DynamoDB returns the item that holds the key; dynalite does not, and it is read.
        const item =
          error.Item ??
          (await t.send(t.call(new GetItemCommand({ TableName: t.table, Key, ConsistentRead: true })))).Item;
        // Gone between the two (freed by its failed request): try again.
        if (item) return memoryFromItem(item);
      }
    }
    throw serviceUnavailable('the database', new Error('an Idempotency-Key changed hands three times'));
  },

  async finishRequest(scope, slot, token, answer) {
    return t.conditional(
      new UpdateItemCommand({
        TableName: t.table,
        Key: keyOf(scope, slot),
        UpdateExpression: `SET answerStatus = :status, answer = :answer${answer.sealedFor === undefined ? '' : ', sealedFor = :sealedFor'}`,
        ConditionExpression: 'heldBy = :token',
        ExpressionAttributeValues: {
          ':token': { S: token },
          ':status': N(answer.status),
          ':answer': { B: answer.body },
          ...(answer.sealedFor === undefined ? {} : { ':sealedFor': { S: answer.sealedFor } }),
        },
      }),
    );
  },

  async forgetRequest(scope, slot, token) {
    await t.conditional(
      new DeleteItemCommand({
        TableName: t.table,
        Key: keyOf(scope, slot),
        ConditionExpression: 'heldBy = :token AND attribute_not_exists(answerStatus)',
        ExpressionAttributeValues: { ':token': { S: token } },
      }),
    );
  },
});

function memoryFromItem(item: Item): RequestMemory {
  const memory: RequestMemory = {
    fingerprint: item.fingerprint?.B ?? new Uint8Array(),
    token: item.heldBy?.S ?? '',
    leaseUntil: num(item.leaseUntil) ?? 0,
    expiresAt: num(item.rememberUntil) ?? 0,
  };
  const status = num(item.answerStatus);
  if (status !== undefined && item.answer?.B) {
    const answer: StoredAnswer = { status, body: item.answer.B };
    if (item.sealedFor?.S !== undefined) answer.sealedFor = item.sealedFor.S;
    memory.answer = answer;
  }
  return memory;
}

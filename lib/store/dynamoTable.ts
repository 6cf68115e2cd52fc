import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type PutItemCommand,
  ResourceNotFoundException,
  UpdateItemCommand,
  type UpdateItemCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { type UserRecord } from '../domain/user.ts';
import { ApiError, outOfTime, serviceUnavailable } from '../errors.ts';
import { userFromItem } from './userItem.ts';
import type { WriteResult } from './port.ts';
import { AUDIT_INDEX, LIST_INDEX, TENANT_INDEX, userKey } from './table.ts';

type Item = Record<string, AttributeValue>;

/** Errors of a request the store will refuse however often it is sent. */
const REFUSED_AS_MALFORMED = new Set(['ValidationException', 'SerializationException']);

/** DynamoDB's limit on the keys of one BatchGetItem call. */
const BATCH_GET_LIMIT = 100;

/**
 * The DynamoDB tables as every store module reaches them: each call bounded by the
 * request's deadline, AWS trouble turned into 503, failed conditions read, and the
 * batch calls that DynamoDB caps (100 keys a read, 25 requests a write) split and
 * their unprocessed parts sent again.
 *
 * `keysTable` holds the tenants' wrapped data keys, and nothing else: a table with no
 * point-in-time recovery and no backup, so that deleting a tenant's key there is
 * crypto-shredding: no restored backup of `table` holds a key that opens its secrets.
 */
export class DynamoTable {
  /** `db.send`, within the request's deadline (see `within`). */
  readonly call: DynamoDBClient['send'];

  constructor(
    private readonly db: DynamoDBClient,
    readonly table: string,
    readonly keysTable: string,
    private readonly signal?: AbortSignal,
  ) {
    this.call = ((command: Parameters<DynamoDBClient['send']>[0]) =>
      this.callWithin(command)) as DynamoDBClient['send'];
  }

  within(signal: AbortSignal): DynamoTable {
    return new DynamoTable(this.db, this.table, this.keysTable, signal);
  }

  /**
   * One AWS call, within the request's deadline: none starts once the signal has
   * aborted, and the request then answers 503, logged with the call it did not make.
   * A call already in flight is let finish, not cancelled: the request answers only
   * after it, so nothing the request sent reaches the store after its answer.
   */
  private async callWithin(command: Parameters<DynamoDBClient['send']>[0]) {
    const signal = this.signal;
    if (signal?.aborted) {
      const name = command.constructor.name.replace(/Command$/, '');
      const why = (signal.reason as Error | undefined)?.message ?? 'its time was up';
      throw outOfTime(new Error(`${name} not started: ${why}`));
    }
    return this.db.send(command);
  }

  async checkReady(): Promise<void> {
    let indexes: string[];
    try {
      const out = await this.db.send(new DescribeTableCommand({ TableName: this.table }));
      indexes = (out.Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName ?? '');
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        throw new Error(`there is no table ${this.table} for these credentials and region`, { cause: error });
      }
      throw new Error(
        `the table ${this.table} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    const missing = [LIST_INDEX, AUDIT_INDEX, TENANT_INDEX].filter((name) => !indexes.includes(name));
    if (missing.length > 0) {
      throw new Error(
        `the table ${this.table} lacks the index ${missing.join(', ')} (made by an older version?)`,
      );
    }
  }

  /**
   * Consistent BatchGetItem of `keys` in `table` (and of `also`, in its own table, in
   * the same call), in chunks of the 100 keys one call may ask for; keys the store
   * left unprocessed (throttling) are asked again, with backoff.
   */
  async batchGet(keys: Item[], also?: { table: string; keys: Item[] }): Promise<Map<string, Item[]>> {
    const found = new Map<string, Item[]>([[this.table, []]]);
    const wanted: [string, Item][] = [
      ...keys.map((key): [string, Item] => [this.table, key]),
      ...(also?.keys ?? []).map((key): [string, Item] => [also?.table ?? '', key]),
    ];
    for (let offset = 0; offset < wanted.length; offset += BATCH_GET_LIMIT) {
      let pending = wanted.slice(offset, offset + BATCH_GET_LIMIT);
      for (let round = 0; pending.length > 0; round++) {
        if (round === 4) throw serviceUnavailable('the database');
        const request: Record<string, { Keys: Item[]; ConsistentRead: true }> = {};
        for (const [table, key] of pending)
          (request[table] ??= { Keys: [], ConsistentRead: true }).Keys.push(key);
        const out = await this.send(this.call(new BatchGetItemCommand({ RequestItems: request })));
        for (const [table, items] of Object.entries(out.Responses ?? {})) {
          found.set(table, [...(found.get(table) ?? []), ...items]);
        }
        pending = Object.entries(out.UnprocessedKeys ?? {}).flatMap(([table, unprocessed]) =>
          (unprocessed.Keys ?? []).map((key): [string, Item] => [table, key]),
        );
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));
      }
    }
    return found;
  }

  /** BatchWriteItem deletes, 25 keys a call; what the store leaves unprocessed is sent again, with backoff. */
  batchDelete(keys: Item[]): Promise<void> {
    return this.batchWrite(keys.map((Key) => ({ DeleteRequest: { Key } })));
  }

  /**
   * BatchWriteItem in calls of the 25 requests one may carry; requests the store left
   * unprocessed (throttling) are sent again, with backoff.
   */
  async batchWrite(requests: WriteRequest[]): Promise<void> {
    for (let offset = 0; offset < requests.length; offset += 25) {
      let pending = requests.slice(offset, offset + 25);
      for (let round = 0; pending.length > 0; round++) {
        if (round === 4) throw serviceUnavailable('the database');
        const out = await this.send(
          this.call(new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } })),
        );
        pending = out.UnprocessedItems?.[this.table] ?? [];
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));
      }
    }
  }

  /** A conditional update of a user; a lost condition returns the item as it is, when the store says. */
  async updateUser(
    user: UserRecord,
    input: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>,
  ): Promise<WriteResult & { attributes?: Item }> {
    try {
      const out = await this.send(
        this.call(
          new UpdateItemCommand({
            TableName: this.table,
            Key: userKey(user.tenantId, user.userId),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            ...input,
          }),
        ),
      );
      return { applied: true, ...(out.Attributes ? { attributes: out.Attributes } : {}) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // DynamoDB returns the item; dynalite does not, and then the caller re-reads.
        return { applied: false, current: error.Item ? userFromItem(error.Item) : undefined };
      }
      throw error;
    }
  }

  async conditional(command: PutItemCommand | UpdateItemCommand | DeleteItemCommand): Promise<boolean> {
    try {
      await this.send(this.call(command as never));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Every call to the store: a failed condition is the caller's to read; a request the
   * store refuses as malformed is a defect of ours that no retry fixes (500, logged);
   * any other trouble (throttling, timeouts, the store down) is a 503 to retry.
   */
  async send<T>(request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || error instanceof ApiError) throw error;
      if (error instanceof Error && REFUSED_AS_MALFORMED.has(error.name)) throw error;
      throw serviceUnavailable('the database', error);
    }
  }
}

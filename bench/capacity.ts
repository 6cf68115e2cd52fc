import type { AwsCall } from '../lib/observability/awsCalls.ts';

/**
 * The read and write units a DynamoDB call consumed, from the call itself: the store's
 * own `ConsumedCapacity` (every observed call asks for it, with the indexes'), and,
 * when the store does not report its indexes (dynalite never does), the writes into
 * global secondary indexes that the item's attributes cause. `tables` are the definitions the tables were made
 * from (lib/store/table.ts), so a new index is counted without touching this file.
 *
 * An index is written when a put's item carries the index's keys (the whole item's
 * units when the index projects ALL, one unit for keys and a few attributes), or an
 * update sets one of its keys or projected attributes (one unit: a lower bound when
 * the update moves the item within the index, which no verify does).
 */
export interface TableDefinition {
  TableName: string;
  GlobalSecondaryIndexes?: readonly {
    KeySchema: readonly { AttributeName: string }[];
    Projection: { ProjectionType: string; NonKeyAttributes?: readonly string[] };
  }[];
}

export interface Units {
  read: number;
  write: number;
}

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);

export function unitsOf(call: AwsCall, tables: readonly TableDefinition[]): Units {
  if (call.service !== 'DynamoDBClient' || !call.output) return { read: 0, write: 0 };
  const reports = [call.output.ConsumedCapacity ?? []].flat() as ConsumedCapacity[];
  // DynamoDB's total includes its indexes, and names them; dynalite's names none.
  const consumed = reports.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
  if (!WRITES.has(call.command)) return { read: consumed, write: 0 };
  const storeCountedIndexes = reports.some((c) => c.GlobalSecondaryIndexes !== undefined);
  return { read: 0, write: consumed + (storeCountedIndexes ? 0 : indexWrites(call, tables, consumed)) };
}

interface ConsumedCapacity {
  CapacityUnits?: number;
  GlobalSecondaryIndexes?: Record<string, unknown>;
}

function indexWrites(call: AwsCall, tables: readonly TableDefinition[], tableUnits: number): number {
  const indexesOf = (name: unknown) => tables.find((t) => t.TableName === name)?.GlobalSecondaryIndexes ?? [];
  const input = call.input;
  if (call.command === 'PutItemCommand') {
    return putIndexWrites(indexesOf(input.TableName), input.Item as Record<string, unknown>, tableUnits);
  }
  if (call.command === 'BatchWriteItemCommand') {
    let units = 0;
    for (const [table, requests] of Object.entries(input.RequestItems as Record<string, unknown[]>)) {
      for (const request of requests as { PutRequest?: { Item: Record<string, unknown> } }[]) {
        if (request.PutRequest) units += putIndexWrites(indexesOf(table), request.PutRequest.Item, 1);
      }
    }
    return units;
  }
  if (call.command === 'UpdateItemCommand') {
    const touched = updatedAttributes(input);
    return indexesOf(input.TableName).filter((index) =>
      [...index.KeySchema.map((k) => k.AttributeName), ...(index.Projection.NonKeyAttributes ?? [])].some(
        (a) => touched.has(a),
      ),
    ).length;
  }
  return 0;
}

function putIndexWrites(
  indexes: NonNullable<TableDefinition['GlobalSecondaryIndexes']>,
  item: Record<string, unknown>,
  itemUnits: number,
): number {
  return indexes
    .filter((index) => index.KeySchema.every((k) => Object.hasOwn(item, k.AttributeName)))
    .reduce((n, index) => n + (index.Projection.ProjectionType === 'ALL' ? itemUnits : 1), 0);
}

/** The attribute names an update expression writes or removes (placeholders resolved). */
function updatedAttributes(input: Record<string, unknown>): Set<string> {
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const expression = String(input.UpdateExpression ?? '');
  const touched = new Set<string>();
  for (const clause of expression.split(/\b(?=SET|REMOVE|ADD|DELETE)\b/i)) {
    for (const assignment of clause.replace(/^\s*(SET|REMOVE|ADD|DELETE)\s+/i, '').split(',')) {
      const target = assignment.trim().split(/[\s=.[]/)[0] ?? '';
      if (target) touched.add(names[target] ?? target);
    }
  }
  return touched;
}

import { deliveryItems } from './deliveryItems.ts';
import { outboxItems } from './outboxItems.ts';
import { webhookItems } from './webhookItems.ts';
import type { Store } from './port.ts';
import { auditItems } from './auditItems.ts';
import { enrolmentItems } from './enrolmentItems.ts';
import type { DynamoTable } from './dynamoTable.ts';
import { importItems } from './importItems.ts';
import { requestItems } from './requestItems.ts';
import { tenantItems } from './tenantItems.ts';
import { userItems } from './userItems.ts';

export { acceptStepUpdate } from './conditions.ts';
export { DynamoTable } from './dynamoTable.ts';

/**
 * The storage port on DynamoDB: one module per aggregate (tenants and keys, users,
 * imports, audit, remembered requests), all writing through the same bounded table (dynamoTable.ts), under
 * the conditions of conditions.ts.
 */
export function dynamoStore(table: DynamoTable): Store {
  return {
    within: (signal) => dynamoStore(table.within(signal)),
    checkReady: () => table.checkReady(),
    ...tenantItems(table),
    ...userItems(table),
    ...importItems(table),
    ...enrolmentItems(table),
    ...auditItems(table),
    ...webhookItems(table),
    ...deliveryItems(table),
    ...outboxItems(table),
    ...requestItems(table),
  };
}

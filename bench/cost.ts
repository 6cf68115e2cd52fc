/**
 * Cost per million verifies, from the calls counted per verify and published list
 * prices. The prices are stated with their date; check them before relying on them.
 */
export const PRICES = {
  asOf: 'AWS list prices, us-east-1, as published in 2026 (DynamoDB on-demand after the November 2024 reduction)',
  httpApiPerMillion: 1.0, // first 300 million requests a month
  lambdaRequestsPerMillion: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  dynamoReadUnitPerMillion: 0.125, // on-demand read request unit (4 KB, strongly consistent)
  dynamoWriteUnitPerMillion: 0.625, // on-demand write request unit (1 KB)
  kmsPerMillion: 3.0, // $0.03 per 10,000 requests
};

/** What a verify's AWS work costs beyond the measured call counts (stated assumptions). */
export const ASSUMPTIONS = {
  lambdaMemoryGb: 0.25, // serverless.yml: 256 MB
  dynamoRoundTripMs: 4, // an in-region DynamoDB call, for the billed duration
  itemsPerBatchGet: 3, // API key, tenant, user: each under 4 KB, read consistently
  writeUnitsPerUpdate: 1, // the user item stays under 1 KB (test: recovery codes › …under 1 KB)
  writeUnitsPerPut: 2, // an audit event under 1 KB, and its copy in the auditByTenant index
};

export function costPerMillion(input: {
  roundTrips: { byCommand: Record<string, number>; kms: number };
  handlerMs: number;
}) {
  const per = (command: string) => input.roundTrips.byCommand[`DynamoDBClient.${command}`] ?? 0;
  const dynamoCalls = Object.entries(input.roundTrips.byCommand)
    .filter(([k]) => k.startsWith('DynamoDBClient'))
    .reduce((n, [, v]) => n + v, 0);
  const readUnits = per('BatchGetItemCommand') * ASSUMPTIONS.itemsPerBatchGet + per('GetItemCommand');
  const writeUnits =
    per('UpdateItemCommand') * ASSUMPTIONS.writeUnitsPerUpdate +
    per('PutItemCommand') * ASSUMPTIONS.writeUnitsPerPut;
  // Billed duration: the handler's measured time with the local store, plus in-region
  // round trips, rounded up to the millisecond.
  const billedMs = Math.ceil(input.handlerMs + dynamoCalls * ASSUMPTIONS.dynamoRoundTripMs);
  const lines = {
    'API Gateway HTTP API': PRICES.httpApiPerMillion,
    'Lambda requests': PRICES.lambdaRequestsPerMillion,
    [`Lambda duration (${billedMs} ms, 256 MB arm64)`]:
      (billedMs / 1000) * ASSUMPTIONS.lambdaMemoryGb * PRICES.lambdaArmPerGbSecond * 1e6,
    [`DynamoDB reads (${readUnits} RRU)`]: readUnits * PRICES.dynamoReadUnitPerMillion,
    [`DynamoDB writes (${writeUnits} WRU)`]: writeUnits * PRICES.dynamoWriteUnitPerMillion,
    [`KMS (${input.roundTrips.kms} calls)`]: input.roundTrips.kms * PRICES.kmsPerMillion,
  };
  const rounded = Object.fromEntries(Object.entries(lines).map(([k, v]) => [k, Number(v.toFixed(3))]));
  const total = Number(
    Object.values(lines)
      .reduce((a, b) => a + b, 0)
      .toFixed(2),
  );
  return { pricesAsOf: PRICES.asOf, prices: PRICES, assumptions: ASSUMPTIONS, lines: rounded, total };
}

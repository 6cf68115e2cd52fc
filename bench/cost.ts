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

/** What a verify's AWS work costs beyond what the benchmark measures (stated assumptions). */
export const ASSUMPTIONS = {
  lambdaMemoryGb: 0.25, // serverless.yml: 256 MB
  // One in-region DynamoDB call, from the request leaving to its answer arriving: the
  // network and DynamoDB's own time. The client's work on either side is measured.
  dynamoRoundTripMs: 4,
  // Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB.
  oneVcpuAtMb: 1769,
};

/**
 * `units`: the read and write units a verify consumed, counted from its calls
 * (bench/capacity.ts). `clientCpuMs`: the CPU time a verify takes in the handler's process (our code, the
 * SDK's signing and parsing, the logs), measured with the store in another process,
 * so that none of the local store's own work is counted: in AWS that work is
 * DynamoDB's, inside the round trip. Billed duration is that CPU time plus a round
 * trip per DynamoDB call.
 *
 * That CPU time is this machine's, on a whole core. At 256 MB a function's share is
 * 256/1,769 of a vCPU; short bursts can run faster than the share, but if a warm
 * verify's CPU were slowed by the whole ratio, the figure would be `ifCpuAtMemoryShare`.
 * It is printed beside the total, not budgeted: only a deployed run (the Billed
 * Duration of Lambda's REPORT lines) tells where between the two the truth is.
 */
export function costPerMillion(input: {
  roundTrips: { byCommand: Record<string, number>; kms: number };
  units: { read: number; write: number };
  clientCpuMs: number;
}) {
  const dynamoCalls = Object.entries(input.roundTrips.byCommand)
    .filter(([k]) => k.startsWith('DynamoDBClient'))
    .reduce((n, [, v]) => n + v, 0);
  const readUnits = input.units.read;
  const writeUnits = input.units.write;
  const linesFor = (cpuMs: number) => {
    // Lambda bills duration rounded up to the millisecond.
    const billedMs = Math.ceil(cpuMs + dynamoCalls * ASSUMPTIONS.dynamoRoundTripMs);
    return {
      'API Gateway HTTP API': PRICES.httpApiPerMillion,
      'Lambda requests': PRICES.lambdaRequestsPerMillion,
      [`Lambda duration (${billedMs} ms, 256 MB arm64)`]:
        (billedMs / 1000) * ASSUMPTIONS.lambdaMemoryGb * PRICES.lambdaArmPerGbSecond * 1e6,
      [`DynamoDB reads (${readUnits} RRU)`]: readUnits * PRICES.dynamoReadUnitPerMillion,
      [`DynamoDB writes (${writeUnits} WRU)`]: writeUnits * PRICES.dynamoWriteUnitPerMillion,
      [`KMS (${input.roundTrips.kms} calls)`]: input.roundTrips.kms * PRICES.kmsPerMillion,
    };
  };
  const totalOf = (lines: Record<string, number>) =>
    Number(
      Object.values(lines)
        .reduce((a, b) => a + b, 0)
        .toFixed(2),
    );
  const lines = linesFor(input.clientCpuMs);
  const cpuShare = (ASSUMPTIONS.lambdaMemoryGb * 1024) / ASSUMPTIONS.oneVcpuAtMb;
  const rounded = Object.fromEntries(Object.entries(lines).map(([k, v]) => [k, Number(v.toFixed(3))]));
  return {
    pricesAsOf: PRICES.asOf,
    prices: PRICES,
    assumptions: ASSUMPTIONS,
    clientCpuMs: Number(input.clientCpuMs.toFixed(3)),
    lines: rounded,
    total: totalOf(lines),
    ifCpuAtMemoryShare: totalOf(linesFor(input.clientCpuMs / cpuShare)),
  };
}

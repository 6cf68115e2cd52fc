import { startLocalService } from './service.ts';

// `npm start`: the whole API on 127.0.0.1, no AWS account, no network.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// EMF metric lines mean something to CloudWatch, not to a terminal: off unless asked for.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const service = await startLocalService({
  dataDir: process.env.TFA_DATA_DIR ?? '.data',
  port: Number(process.env.PORT ?? 3000),
  operatorKey: process.env.TFA_OPERATOR_KEY || undefined,
  storeEndpoint: process.env.TFA_STORE_ENDPOINT || undefined,
}).catch((error: unknown) => {
  // A misconfiguration stops the start with what is wrong, not a stack trace.
  console.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

console.log(`two-factor service listening on ${service.url}`);
if (service.generatedOperatorKey) {
  // Printed once, to the operator's own terminal; set TFA_OPERATOR_KEY to choose one.
  console.log(
    `operator key (generated for this run; set TFA_OPERATOR_KEY to keep one): ${service.operatorKey}`,
  );
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void service.close().finally(() => process.exit(0));
  });
}

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import yauzl from 'yauzl';
import { PROJECT_ROOT } from '../../lib/local/service.ts';

// `serverless package` run for real (offline, fake credentials), and its
// CloudFormation template held to the least-privilege and durability claims.
const out = mkdtempSync(join(tmpdir(), 'tfa-package-'));
let template: { Resources: Record<string, { Type: string; Properties: any; DeletionPolicy?: string }> };
let resources: Record<string, { Type: string; Properties: any; DeletionPolicy?: string }>;

before(async () => {
  await promisify(execFile)(
    join(PROJECT_ROOT, 'node_modules/.bin/serverless'),
    ['package', '--stage', 'ci', '--package', out],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'offline',
        AWS_SECRET_ACCESS_KEY: 'offline',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      timeout: 240_000,
    },
  );
  template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
  resources = template.Resources;
});

/** Extracts a zip with yauzl (no `unzip` binary on a fresh machine). */
async function unzip(file: string, dir: string): Promise<void> {
  const zip = await promisify<string, yauzl.Options, yauzl.ZipFile>(yauzl.open)(file, { lazyEntries: true });
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      const target = join(dir, entry.fileName);
      if (!target.startsWith(dir)) return reject(new Error(`unsafe path ${entry.fileName}`));
      zip.openReadStream(entry, (error, stream) => {
        if (error || !stream) return reject(error);
        mkdirSync(dirname(target), { recursive: true });
        stream.pipe(createWriteStream(target)).on('finish', () => zip.readEntry());
      });
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
}

const table = { 'Fn::GetAtt': ['Table', 'Arn'] };
const index = (name: string) => ({ 'Fn::Join': ['/', [{ 'Fn::GetAtt': ['Table', 'Arn'] }, 'index', name]] });
const key = { 'Fn::GetAtt': ['SecretsKey', 'Arn'] };
const queue = { 'Fn::GetAtt': ['PurgeQueue', 'Arn'] };
const keysTable = { 'Fn::GetAtt': ['KeysTable', 'Arn'] };
const authRead = 'dynamodb:BatchGetItem';

// What each function may do, and nothing more. `decrypt` is kms:Decrypt of tenant data keys.
const EXPECTED: Record<
  string,
  {
    table: string[];
    listIndex?: true;
    auditIndex?: true;
    tenantIndex?: true;
    enrolmentIndex?: true;
    decrypt?: true;
    generate?: true;
    /** Actions on the purge queue. */
    queue?: string[];
    /** Not an HTTP function: no operator key to read. */
    internal?: true;
    /** Actions on the key table (default: the BatchGetItem of every tenant request). */
    keys?: string[];
    /** Keeps the answers of requests sent with an Idempotency-Key: its own partitions only. */
    requests?: true;
  }
> = {
  health: { table: [], keys: [] },
  notFound: { table: [], keys: [] },
  tenants: {
    table: [authRead, 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    tenantIndex: true,
    generate: true,
    decrypt: true,
    queue: ['sqs:SendMessage'],
    keys: [authRead, 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
    requests: true,
  },
  purge: {
    table: ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:Query'],
    listIndex: true,
    auditIndex: true,
    tenantIndex: true,
    queue: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:SendMessage'],
    internal: true,
    keys: ['dynamodb:DeleteItem'],
  },
  settings: {
    table: [authRead, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    requests: true,
    decrypt: true,
  },
  console: { table: [], keys: [] },
  importLogins: {
    table: [
      authRead,
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ],
    tenantIndex: true,
    requests: true,
    decrypt: true,
  },
  keys: {
    table: [
      authRead,
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ],
    requests: true,
    decrypt: true,
  },
  setup: {
    table: [authRead, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    decrypt: true,
    requests: true,
  },
  confirm: {
    table: [
      authRead,
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ],
    tenantIndex: true,
    decrypt: true,
    requests: true,
  },
  verify: {
    table: [authRead, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    decrypt: true,
  },
  status: { table: [authRead] },
  remove: {
    table: [
      authRead,
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ],
    tenantIndex: true,
    requests: true,
    decrypt: true,
  },
  authenticators: {
    table: [
      authRead,
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ],
    tenantIndex: true,
    requests: true,
    decrypt: true,
  },
  recoveryCodes: {
    table: [authRead, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    decrypt: true,
    requests: true,
  },
  unlock: {
    table: [authRead, 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    requests: true,
    decrypt: true,
  },
  list: { table: [authRead], listIndex: true, enrolmentIndex: true, decrypt: true },
  enrolment: {
    table: [authRead, 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
    listIndex: true,
    tenantIndex: true,
  },
  audit: { table: [authRead, 'dynamodb:Query'], auditIndex: true, decrypt: true },
  webhooks: {
    table: [
      authRead,
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ],
    decrypt: true,
    requests: true,
  },
  dispatchWebhooks: {
    table: [authRead, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    tenantIndex: true,
    auditIndex: true,
    decrypt: true,
    internal: true,
  },
};

const logicalName = (fn: string) => `${fn[0]?.toUpperCase()}${fn.slice(1)}`;
const statementsOf = (fn: string): any[] => {
  const role = resources[`${logicalName(fn)}IamRoleLambdaExecution`];
  assert.ok(role, `${fn} has its own role`);
  return role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
};
const actions = (s: any): string[] => [s.Action].flat();
const tenantCondition = {
  'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant'] },
  Null: { 'kms:EncryptionContext:tenant': 'false' },
};

describe('the packaged template', () => {
  it('one function per operation, each on nodejs22.x arm64 with its own role', () => {
    const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    assert.deepEqual(
      functions.map(([name]) => name.replace(/LambdaFunction$/, '')).sort(),
      Object.keys(EXPECTED).map(logicalName).sort(),
    );
    for (const [name, fn] of functions) {
      assert.equal(fn.Properties.Runtime, 'nodejs22.x', name);
      assert.deepEqual(fn.Properties.Architectures, ['arm64'], name);
      assert.deepEqual(fn.Properties.Role, {
        'Fn::GetAtt': [`${name.replace(/LambdaFunction$/, '')}IamRoleLambdaExecution`, 'Arn'],
      });
      // The purge and the webhook dispatcher work in the background; the import's 1,000
      // logins stay under API Gateway's 30 s.
      const limit =
        (
          {
            PurgeLambdaFunction: 60,
            DispatchWebhooksLambdaFunction: 60,
            ImportLoginsLambdaFunction: 29,
          } as Record<string, number>
        )[name] ?? 10;
      assert.ok(fn.Properties.Timeout <= limit && fn.Properties.MemorySize >= 256, name);
    }
    for (const fn of Object.keys(EXPECTED)) {
      assert.ok(existsSync(join(out, `${fn}.zip`)), `${fn}.zip is built`);
    }
  });

  it('the webhook dispatcher runs every minute, on a schedule that targets it alone', () => {
    const rules = Object.values(resources).filter((r: any) => r.Type === 'AWS::Events::Rule') as any[];
    assert.equal(rules.length, 1);
    const [rule] = rules;
    assert.equal(rule.Properties.ScheduleExpression, 'rate(1 minute)');
    assert.equal(rule.Properties.State, 'ENABLED');
    assert.deepEqual(
      rule.Properties.Targets.map((t: any) => t.Arn),
      [{ 'Fn::GetAtt': ['DispatchWebhooksLambdaFunction', 'Arn'] }],
    );
  });

  it('the table’s stream wakes the dispatcher for new messages only: never for a verify, or any other write', () => {
    const tableResource = Object.values(resources).find(
      (r: any) => r.Type === 'AWS::DynamoDB::Table' && r.Properties.StreamSpecification,
    ) as any;
    assert.deepEqual(tableResource.Properties.StreamSpecification, { StreamViewType: 'KEYS_ONLY' });
    const mappings = Object.values(resources).filter(
      (r: any) => r.Type === 'AWS::Lambda::EventSourceMapping',
    ) as any[];
    const streams = mappings.filter((m) => JSON.stringify(m.Properties.EventSourceArn).includes('StreamArn'));
    assert.equal(streams.length, 1);
    const [mapping] = streams;
    assert.deepEqual(mapping.Properties.EventSourceArn, { 'Fn::GetAtt': ['Table', 'StreamArn'] });
    assert.deepEqual(mapping.Properties.FunctionName, {
      'Fn::GetAtt': ['DispatchWebhooksLambdaFunction', 'Arn'],
    });
    assert.equal(mapping.Properties.StartingPosition, 'LATEST');
    const patterns = mapping.Properties.FilterCriteria.Filters.map((f: any) => JSON.parse(f.Pattern));
    // Lambda's event filtering, for the rules these patterns use (a list of values or prefixes).
    const matches = (pattern: any, value: any): boolean =>
      Array.isArray(pattern)
        ? pattern.some((p) =>
            typeof p === 'object' ? typeof value === 'string' && value.startsWith(p.prefix) : p === value,
          )
        : typeof value === 'object' &&
          value !== null &&
          Object.entries(pattern).every(([k, p]) => matches(p, value[k]));
    const record = (eventName: string, pk: string, sk: string) => ({
      eventName,
      dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } } },
    });
    const wakes = (r: object) => patterns.some((p: any) => matches(p, r));
    assert.equal(wakes(record('INSERT', 'DELIVERY#acme#wh_1', 'msg_1')), true, 'a new message');
    for (const [name, r] of Object.entries({
      'a verify': record('MODIFY', 'USER#acme#bob', 'USER'),
      'a first setup': record('INSERT', 'USER#acme#bob', 'USER'),
      'an attempt recorded': record('MODIFY', 'DELIVERY#acme#wh_1', 'msg_1'),
      'a message expiring': record('REMOVE', 'DELIVERY#acme#wh_1', 'msg_1'),
      'an audit event': record('INSERT', 'AUDIT#acme#3', '2026-12-06T04:00:00.000Z#x'),
      'a key': record('INSERT', 'TENANT#acme', 'KEY#0123456789abcdef'),
    })) {
      assert.equal(wakes(r), false, name);
    }
    const streamRead = statementsOf('dispatchWebhooks').filter((s) =>
      JSON.stringify(s.Resource).includes('StreamArn'),
    );
    assert.deepEqual([...new Set(streamRead.flatMap(actions))].sort(), [
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
    ]);
    for (const fn of Object.keys(EXPECTED).filter((f) => f !== 'dispatchWebhooks')) {
      assert.ok(!JSON.stringify(statementsOf(fn)).includes('StreamArn'), `${fn} reads no stream`);
    }
  });

  it('an alarm when security events fail, on the metric the dispatcher counts, to the operator’s topic', () => {
    const alarms = Object.entries(resources).filter(([, r]: any) => r.Type === 'AWS::CloudWatch::Alarm') as [
      string,
      any,
    ][];
    const failed = alarms.find(([, a]) => a.Properties.MetricName === 'WebhookFailed')?.[1];
    assert.ok(failed, 'an alarm on WebhookFailed');
    const env = resources.DispatchWebhooksLambdaFunction?.Properties.Environment.Variables;
    assert.equal(failed.Properties.Namespace, env.POWERTOOLS_METRICS_NAMESPACE);
    assert.deepEqual(failed.Properties.Dimensions, [{ Name: 'service', Value: env.POWERTOOLS_SERVICE_NAME }]);
    assert.deepEqual(
      [failed.Properties.Threshold, failed.Properties.ComparisonOperator],
      [1, 'GreaterThanOrEqualToThreshold'],
    );
    const errors = alarms.find(([, a]) => a.Properties.MetricName === 'Errors')?.[1];
    assert.deepEqual(errors?.Properties.Dimensions, [
      { Name: 'FunctionName', Value: { Ref: 'DispatchWebhooksLambdaFunction' } },
    ]);
    for (const [name, alarm] of alarms) {
      assert.deepEqual(alarm.Properties.AlarmActions, [{ Ref: 'AlarmTopic' }], name);
      assert.equal(alarm.Properties.TreatMissingData, 'notBreaching', name);
    }
    assert.equal(resources.AlarmTopic?.Type, 'AWS::SNS::Topic');
    // The metric is one the code counts (lib/observability/metrics.ts).
    const metricNames = readFileSync(join(PROJECT_ROOT, 'lib/observability/metrics.ts'), 'utf8');
    assert.match(metricNames, /\| 'WebhookFailed'/);
  });

  for (const [fn, expected] of Object.entries(EXPECTED)) {
    it(`${fn}: exactly the permissions it needs, no wildcard`, () => {
      const statements = statementsOf(fn);
      for (const s of statements) {
        assert.equal(s.Effect, 'Allow');
        for (const action of actions(s)) assert.ok(!action.includes('*'), `${fn}: wildcard action ${action}`);
        for (const resource of [s.Resource].flat()) {
          assert.ok(
            typeof resource !== 'string' || !resource.includes('*'),
            `${fn}: wildcard resource ${resource}`,
          );
        }
      }
      const requests = statements.filter((s) =>
        JSON.stringify(s.Condition ?? {}).includes('dynamodb:LeadingKeys'),
      );
      assert.deepEqual(
        requests.map((s) => [[...actions(s)].sort(), s.Resource, s.Condition]),
        expected.requests
          ? [
              [
                ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
                table,
                { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['REQUESTS', 'REQUESTS#*'] } },
              ],
            ]
          : [],
        `${fn}: the remembered requests' partitions, and only them`,
      );
      const tableActions = statements
        .filter((s) => JSON.stringify(s.Resource) === JSON.stringify(table) && !requests.includes(s))
        .flatMap(actions);
      // A set of permissions: two building blocks may grant one action twice.
      assert.deepEqual([...new Set(tableActions)].sort(), [...expected.table].sort());
      const indexes = statements.filter((s) => JSON.stringify(s.Resource).includes('index'));
      assert.deepEqual(
        indexes.map((s) => [actions(s), s.Resource]),
        [
          ...(expected.listIndex ? [[['dynamodb:Query'], index('byTenant')]] : []),
          ...(expected.auditIndex ? [[['dynamodb:Query'], index('auditByTenant')]] : []),
          ...(expected.tenantIndex ? [[['dynamodb:Query'], index('tenantDirectory')]] : []),
          ...(expected.enrolmentIndex ? [[['dynamodb:Query'], index('byEnrolment')]] : []),
        ],
      );
      const queueActions = statements
        .filter((s) => JSON.stringify(s.Resource) === JSON.stringify(queue))
        .flatMap(actions);
      assert.deepEqual(queueActions.sort(), expected.queue ?? []);
      const keyActions = statements
        .filter((s) => JSON.stringify(s.Resource) === JSON.stringify(keysTable))
        .flatMap(actions);
      assert.deepEqual(keyActions.sort(), expected.keys ?? ['dynamodb:BatchGetItem']);
      const kms = statements.filter((s) => actions(s).some((a) => a.startsWith('kms:')));
      for (const s of kms) assert.deepEqual(s.Resource, key, `${fn}: KMS only on our key`);
      const tenantKms = kms.filter((s) => JSON.stringify(s.Condition) === JSON.stringify(tenantCondition));
      assert.deepEqual(tenantKms.flatMap(actions).sort(), [
        ...(expected.decrypt ? ['kms:Decrypt'] : []),
        ...(expected.generate ? ['kms:GenerateDataKey'] : []),
      ]);
      // Every other KMS use is SSM decrypting the operator key parameter, and only that.
      for (const s of kms.filter((k) => !tenantKms.includes(k))) {
        assert.deepEqual(actions(s), ['kms:Decrypt']);
        assert.match(
          JSON.stringify(s.Condition.StringEquals['kms:EncryptionContext:PARAMETER_ARN']),
          /operator-key-hash/,
        );
      }
      const others = statements.filter(
        (s) => !JSON.stringify(s.Resource).match(/Table|SecretsKey|PurgeQueue/),
      );
      if (expected.internal) {
        assert.ok(!JSON.stringify(statements).includes('ssm:'), `${fn} reads no operator key`);
      }
      for (const s of others) {
        const allowed =
          s.Resource && JSON.stringify(s.Resource).includes(':parameter/tfa/ci/operator-key-hash')
            ? ['ssm:GetParameter']
            : ['logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:PutLogEvents'];
        assert.deepEqual(actions(s).sort(), allowed.sort(), `${fn}: ${JSON.stringify(s)}`);
      }
    });
  }

  it('each package holds every chunk its code imports, and its handler loads', async () => {
    for (const fn of Object.keys(EXPECTED)) {
      const dir = join(out, `unzipped-${fn}`);
      await unzip(join(out, `${fn}.zip`), dir);
      const code = join(dir, 'functions');
      const files = new Set(readdirSync(code));
      for (const file of files) {
        const text = readFileSync(join(code, file), 'utf8');
        // Static and dynamic imports of sibling chunks, as esbuild writes them.
        for (const [, chunk] of text.matchAll(/(?:from|import)\s*\(?"\.\/([\w.-]+\.mjs)"/g)) {
          assert.ok(files.has(chunk as string), `${fn}: ${file} imports ${chunk}, which is not packaged`);
        }
      }
      const module = await import(pathToFileURL(join(code, `${fn}.mjs`)).href);
      assert.equal(typeof module.handler, 'function', fn);
    }
  });

  it('the console function carries the built console and serves it from its package', async () => {
    const dir = join(out, 'unzipped-console');
    const built = readdirSync(join(PROJECT_ROOT, 'console/dist')).sort();
    assert.deepEqual(readdirSync(join(dir, 'console/dist')).sort(), built);
    const { handler } = await import(pathToFileURL(join(dir, 'functions/console.mjs')).href);
    const event = (routeKey: string, file?: string) => ({
      version: '2.0',
      routeKey,
      rawPath: file ? `/console/${file}` : '/console',
      headers: {},
      ...(file ? { pathParameters: { file } } : {}),
      requestContext: { requestId: 'template', http: { method: 'GET' } },
    });
    const page = await handler(event('GET /console'), { awsRequestId: 'template' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<script type="module" crossorigin src="\/console\/index-[\w-]+\.js">/);
    assert.match(page.headers['content-security-policy'], /script-src 'self'.*frame-ancestors 'none'/);
    const script = built.find((f) => f.endsWith('.js')) as string;
    const file = await handler(event('GET /console/{file}', script), { awsRequestId: 'template' });
    assert.equal(file.statusCode, 200);
    assert.equal(file.headers['content-type'], 'text/javascript; charset=utf-8');
  });

  it('only the tenants function may generate data keys', () => {
    const generators = Object.keys(EXPECTED).filter((fn) =>
      statementsOf(fn).some((s) => actions(s).includes('kms:GenerateDataKey')),
    );
    assert.deepEqual(generators, ['tenants']);
  });

  it('the table: point-in-time recovery, deletion protection, encryption, TTL, retained', () => {
    const t = resources.Table as { Properties: any; DeletionPolicy?: string };
    assert.equal(t.DeletionPolicy, 'Retain');
    assert.equal(t.Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled, true);
    assert.equal(t.Properties.DeletionProtectionEnabled, true);
    assert.equal(t.Properties.SSESpecification.SSEEnabled, true);
    assert.deepEqual(t.Properties.TimeToLiveSpecification, { AttributeName: 'expiresAt', Enabled: true });
    assert.equal(t.Properties.BillingMode, 'PAY_PER_REQUEST');
    assert.deepEqual(
      t.Properties.GlobalSecondaryIndexes.map((i: any) => i.IndexName),
      ['byTenant', 'auditByTenant', 'tenantDirectory', 'byEnrolment'],
    );
    // The tenant-wide audit index is keyed by shard (`<tenant>#<0..15>`), newest last.
    const audit = t.Properties.GlobalSecondaryIndexes.find((i: any) => i.IndexName === 'auditByTenant');
    assert.deepEqual(audit.KeySchema, [
      { AttributeName: 'auditTenant', KeyType: 'HASH' },
      { AttributeName: 'auditAt', KeyType: 'RANGE' },
    ]);
    assert.deepEqual(audit.Projection, { ProjectionType: 'ALL' });
  });

  it('audit events of one tenant go to 16 partitions of the index, not one', async () => {
    const { auditToItem } = await import('../../lib/store/items.ts');
    const event = {
      tenantId: 'busy',
      at: 0,
      action: 'verify' as const,
      actor: { keyId: 'k', name: 'n' },
      outcome: 'success',
      requestId: 'same',
    };
    const partitions = new Set(Array.from({ length: 400 }, () => auditToItem(event, 1).auditTenant?.S));
    assert.deepEqual([...partitions].sort(), Array.from({ length: 16 }, (_, i) => `busy#${i}`).sort());
  });

  it('the key table: the data keys alone, retained, protected, and never backed up', () => {
    const t = resources.KeysTable as { Properties: any; DeletionPolicy?: string };
    assert.equal(t.DeletionPolicy, 'Retain');
    assert.equal(t.Properties.DeletionProtectionEnabled, true);
    // No backup may hold a deleted tenant's key: no point-in-time recovery, a tag for backup plans.
    assert.equal(t.Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled, false);
    assert.deepEqual(t.Properties.Tags, [{ Key: 'tfa:backup', Value: 'never' }]);
    assert.equal(t.Properties.GlobalSecondaryIndexes, undefined);
    assert.equal(t.Properties.SSESpecification.SSEEnabled, true);
    // Only the tenants function writes or deletes there; the purge deletes what a shred left.
    const writers = Object.keys(EXPECTED).filter((fn) =>
      statementsOf(fn).some(
        (s) =>
          JSON.stringify(s.Resource) === JSON.stringify(keysTable) &&
          actions(s).some((a) => a !== 'dynamodb:BatchGetItem'),
      ),
    );
    assert.deepEqual(writers.sort(), ['purge', 'tenants']);
  });

  it('the KMS key: rotated, retained, administered by the account alone', () => {
    const k = resources.SecretsKey as { Properties: any; DeletionPolicy?: string };
    assert.equal(k.DeletionPolicy, 'Retain');
    assert.equal(k.Properties.EnableKeyRotation, true);
    const statements = k.Properties.KeyPolicy.Statement;
    assert.equal(statements.length, 1);
    assert.match(JSON.stringify(statements[0].Principal.AWS), /:root/);
  });

  it('logs are kept for a bounded time', () => {
    const groups = Object.values(resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
    assert.equal(groups.length, Object.keys(EXPECTED).length);
    for (const g of groups) assert.equal(g.Properties.RetentionInDays, 90);
  });

  it('the HTTP API: every contract route, throttled, verify apart, no CORS', () => {
    const routes = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => r.Properties.RouteKey);
    assert.equal(routes.length, 37);
    assert.ok(routes.includes('POST /v1/users/{userId}/verify'));
    // Unmatched requests reach our stack, and its 404, not API Gateway's own answer.
    const fallback = Object.values(resources).find(
      (r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === '$default',
    );
    assert.match(JSON.stringify(fallback?.Properties.Target), /NotFound/);
    const stage = resources.HttpApiStage?.Properties;
    assert.ok(
      stage.DefaultRouteSettings.ThrottlingRateLimit > 0 &&
        stage.DefaultRouteSettings.ThrottlingBurstLimit > 0,
    );
    assert.ok(stage.RouteSettings['POST /v1/users/{userId}/verify'].ThrottlingRateLimit > 0);
    assert.equal(resources.HttpApi?.Properties.CorsConfiguration, undefined);
  });

  it('the purge: its queue feeds only the purge function, one message a step, with a dead letter queue', () => {
    const mappings = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::EventSourceMapping' &&
        JSON.stringify(r.Properties.EventSourceArn).includes('Queue'),
    );
    assert.equal(mappings.length, 1);
    const mapping = mappings[0]?.Properties;
    assert.deepEqual(mapping.EventSourceArn, queue);
    assert.match(JSON.stringify(mapping.FunctionName), /PurgeLambdaFunction/);
    assert.equal(mapping.BatchSize, 1);
    const purgeQueue = resources.PurgeQueue?.Properties;
    const purgeTimeout = resources.PurgeLambdaFunction?.Properties.Timeout;
    assert.ok(purgeQueue.VisibilityTimeout >= 6 * purgeTimeout, 'a step is never delivered twice at once');
    assert.deepEqual(purgeQueue.RedrivePolicy.deadLetterTargetArn, {
      'Fn::GetAtt': ['PurgeDeadLetters', 'Arn'],
    });
    assert.equal(purgeQueue.SqsManagedSseEnabled, true);
    // Who may send to it: the tenants function, and the purge itself (its next step).
    const senders = Object.keys(EXPECTED).filter((fn) =>
      statementsOf(fn).some((s) => actions(s).includes('sqs:SendMessage')),
    );
    assert.deepEqual(senders.sort(), ['purge', 'tenants']);
  });

  it('no secret in the template: the operator key is named, never given', () => {
    const text = JSON.stringify(template);
    assert.ok(!text.includes('TFA_OPERATOR_KEY"'), 'no plain operator key');
    assert.ok(!text.includes('TFA_OPERATOR_KEY_HASH'), 'no operator key hash either');
    assert.match(text, /"TFA_OPERATOR_KEY_PARAMETER":"\/tfa\/ci\/operator-key-hash"/);
    assert.ok(!/[0-9a-f]{64}/.test(text.replace(/"CodeSha256"[^,]*/g, '')), 'no hex secret anywhere');
  });
});

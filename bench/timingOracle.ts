/**
 * `npm run bench:timing`: can a caller without a valid key tell, by timing alone,
 * whether a tenant, a key id or a user exists? Every request reads the tenant, the
 * key and the user in one BatchGetItem, whose answer is larger when they exist.
 * This sends forged keys for what exists and for what does not, interleaved, over
 * HTTP on 127.0.0.1, and prints the medians and their difference with a bootstrap
 * interval. SECURITY.md records the number (a residual risk). A script, not a test.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { startLocalService } from '../lib/local/service.ts';
import { codeFor } from '../test/support/otp.ts';
import { ApiClient } from '../test/support/service.ts';
import { percentile } from './percentile.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.TFA_LOG_LEVEL = 'error';
const SAMPLES = Number(process.env.BENCH_TIMING_SAMPLES ?? 1000);

const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
  /^\{"(level|_aws)"/.test(String(chunk)) ? true : write(chunk, ...rest)) as typeof process.stdout.write;

const service = await startLocalService({
  dataDir: undefined,
  kekFile: `/tmp/tfa-timing-${process.pid}.key`,
  port: 0,
  operatorKey: 'timing-operator-key-0123456789abcdef',
});
const client = new ApiClient(service.url);
const admin = await client.tenant(service.operatorKey, 'oracle', 'Oracle Hosting');
const users = await client.key(admin, ['users'], 'panel');
const setup = await client.call('POST', '/v1/users/bob/setup', { key: users });
await client.call('POST', '/v1/users/bob/confirm', { key: users, body: { code: codeFor(setup.body) } });
const [, , keyId] = users.split('.');

const secret = () => randomBytes(32).toString('base64url');
// Each is a well-formed tenant key with a wrong secret: every one answers 401.
const forged = {
  nothing: () => `tfa.nowhere.0123456789abcdef.${secret()}`,
  tenant: () => `tfa.oracle.0123456789abcdef.${secret()}`,
  'tenant+key': () => `tfa.oracle.${keyId}.${secret()}`,
};
type Kind = keyof typeof forged;
const paths = { absentUser: '/v1/users/nobody', presentUser: '/v1/users/bob' };

async function sample(kind: Kind, path: string): Promise<number> {
  const started = performance.now();
  const reply = await client.call('GET', path, { key: forged[kind]() });
  const elapsed = performance.now() - started;
  if (reply.status !== 401) throw new Error(`expected 401, got ${reply.status}`);
  return elapsed;
}

const cases: [Kind, keyof typeof paths][] = [
  ['nothing', 'absentUser'],
  ['tenant', 'absentUser'],
  ['tenant', 'presentUser'],
  ['tenant+key', 'absentUser'],
  ['tenant+key', 'presentUser'],
];
const times = new Map<string, number[]>(cases.map(([k, p]) => [`${k} ${p}`, []]));
for (let i = 0; i < 100; i++) for (const [k, p] of cases) await sample(k, paths[p]); // warm-up
for (let i = 0; i < SAMPLES; i++) {
  for (const [k, p] of cases) times.get(`${k} ${p}`)?.push(await sample(k, paths[p]));
}

const median = (xs: number[]) => percentile(xs, 50);
function bootstrap(a: number[], b: number[], rounds = 2000): [number, number] {
  const pick = (xs: number[]) => xs.map(() => xs[Math.floor(Math.random() * xs.length)] as number);
  const diffs = Array.from({ length: rounds }, () => median(pick(b)) - median(pick(a))).sort((x, y) => x - y);
  return [diffs[Math.floor(rounds * 0.025)] ?? 0, diffs[Math.floor(rounds * 0.975)] ?? 0];
}

const base = times.get('nothing absentUser') ?? [];
console.log(`forged keys, ${SAMPLES} interleaved samples each, every answer 401 (ms)`);
console.log('what exists                      median   vs nothing   95% interval');
for (const [name, xs] of times) {
  const [low, high] = bootstrap(base, xs);
  const diff = median(xs) - median(base);
  console.log(
    `${name.padEnd(32)} ${median(xs).toFixed(3).padStart(6)}   ${diff >= 0 ? '+' : ''}${diff.toFixed(3)}      [${low.toFixed(3)}, ${high.toFixed(3)}]`,
  );
}
await service.close();

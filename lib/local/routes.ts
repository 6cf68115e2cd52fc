import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface RouteDeclaration {
  functionName: string;
  /** `functions/verify.handler`: module path and export, as serverless.yml says it. */
  handler: string;
  method: string;
  path: string;
  /** API Gateway's route key, `POST /v1/users/{userId}/verify`. */
  routeKey: string;
  /** The function's timeout (its own, else the provider's): local mode gives a request as long. */
  timeoutSeconds: number;
}

/** API Gateway's catch-all route (`httpApi: '*'` in serverless.yml): what no other route matches. */
export const DEFAULT_ROUTE = '$default';

/** The routes declared in serverless.yml: local mode keeps no second list. */
export function readRoutes(serverlessYml: string): RouteDeclaration[] {
  const config = parse(readFileSync(serverlessYml, 'utf8')) as {
    provider: { timeout?: number };
    functions: Record<
      string,
      {
        handler: string;
        timeout?: number;
        events?: { httpApi?: string | { method: string; path: string }; sqs?: unknown }[];
      }
    >;
  };
  const routes: RouteDeclaration[] = [];
  for (const [functionName, fn] of Object.entries(config.functions)) {
    const timeoutSeconds = fn.timeout ?? config.provider.timeout ?? 6;
    for (const event of fn.events ?? []) {
      if (!event.httpApi) continue;
      if (event.httpApi === '*') {
        routes.push({
          functionName,
          handler: fn.handler,
          method: '*',
          path: '*',
          routeKey: DEFAULT_ROUTE,
          timeoutSeconds,
        });
        continue;
      }
      const [method = '', path = ''] =
        typeof event.httpApi === 'string'
          ? event.httpApi.split(/\s+/)
          : [event.httpApi.method, event.httpApi.path];
      routes.push({
        functionName,
        handler: fn.handler,
        method: method.toUpperCase(),
        path,
        routeKey: `${method.toUpperCase()} ${path}`,
        timeoutSeconds,
      });
    }
  }
  return routes;
}

/**
 * The functions serverless.yml triggers from a queue, with the queue's resource name
 * (`arn: ${self:custom.purgeQueue}`, that custom value `Fn::GetAtt: [PurgeQueue, Arn]`):
 * local mode feeds each its own queue in process.
 */
export function readQueueConsumers(
  serverlessYml: string,
): { functionName: string; handler: string; queue: string }[] {
  const config = parse(readFileSync(serverlessYml, 'utf8')) as {
    custom?: Record<string, unknown>;
    functions: Record<string, { handler: string; events?: { sqs?: string | { arn: unknown } }[] }>;
  };
  const queueOf = (functionName: string, sqs: string | { arn: unknown }): string => {
    let arn = typeof sqs === 'string' ? sqs : sqs.arn;
    const custom = typeof arn === 'string' ? /^\$\{self:custom\.(\w+)\}$/.exec(arn)?.[1] : undefined;
    if (custom !== undefined) arn = config.custom?.[custom];
    const name = (arn as { 'Fn::GetAtt'?: unknown[] } | undefined)?.['Fn::GetAtt']?.[0];
    if (typeof name !== 'string')
      throw new Error(`${functionName}: an sqs event whose queue local mode cannot name`);
    return name;
  };
  return Object.entries(config.functions).flatMap(([functionName, fn]) =>
    (fn.events ?? []).flatMap((event) =>
      event.sqs === undefined
        ? []
        : [{ functionName, handler: fn.handler, queue: queueOf(functionName, event.sqs) }],
    ),
  );
}

/** The functions that run on a schedule (`events: - schedule: ...`): local mode runs them on an interval. */
export function readScheduled(serverlessYml: string): { functionName: string; handler: string }[] {
  const config = parse(readFileSync(serverlessYml, 'utf8')) as {
    functions: Record<string, { handler: string; events?: { schedule?: unknown }[] }>;
  };
  return Object.entries(config.functions)
    .filter(([, fn]) => (fn.events ?? []).some((event) => event.schedule !== undefined))
    .map(([functionName, fn]) => ({ functionName, handler: fn.handler }));
}

export interface RouteMatch {
  route: RouteDeclaration;
  pathParameters: Record<string, string>;
}

/**
 * Finds the route for a request path, or else the `$default` route. Like API
 * Gateway's HTTP API, path parameters are delivered percent-decoded; a `{name}`
 * matches one whole segment. A segment that does not decode is passed as it is,
 * so the handler refuses it by name (`invalid_user_id`) rather than as no route.
 */
export function matchRoute(
  routes: RouteDeclaration[],
  method: string,
  rawPath: string,
): RouteMatch | undefined {
  const segments = rawPath.split('/');
  for (const route of routes) {
    if (route.method !== method || route.routeKey === DEFAULT_ROUTE) continue;
    const pattern = route.path.split('/');
    if (pattern.length !== segments.length) continue;
    const pathParameters: Record<string, string> = {};
    const matched = pattern.every((part, i) => {
      const segment = segments[i] ?? '';
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (name === undefined) return part === segment;
      if (segment === '') return false;
      pathParameters[name] = decodeSegment(segment);
      return true;
    });
    if (matched) return { route, pathParameters };
  }
  const fallback = routes.find((route) => route.routeKey === DEFAULT_ROUTE);
  return fallback && { route: fallback, pathParameters: {} };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

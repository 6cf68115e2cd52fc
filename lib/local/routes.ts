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

/** The functions serverless.yml triggers from a queue (the purge): local mode feeds them in process. */
export function readQueueConsumers(serverlessYml: string): { functionName: string; handler: string }[] {
  const config = parse(readFileSync(serverlessYml, 'utf8')) as {
    functions: Record<string, { handler: string; events?: { sqs?: unknown }[] }>;
  };
  return Object.entries(config.functions)
    .filter(([, fn]) => (fn.events ?? []).some((event) => event.sqs !== undefined))
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

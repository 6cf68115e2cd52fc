import { AssertionError } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../lib/local/service.ts';

/**
 * openapi.yaml as a judge of answers: every response an HTTP test receives goes
 * through `checkResponse`, so a field, a status or a header that the spec does not
 * describe fails the test that saw it. The schemas are JSON Schema 2020-12
 * (OpenAPI 3.1), checked by Ajv in strict mode.
 */

interface Operation {
  responses: Record<string, { $ref?: string } & ResponseObject>;
}
interface ResponseObject {
  headers?: Record<string, { $ref?: string; required?: boolean; schema?: object }>;
  content?: Record<string, { schema: object }>;
}

export const SPEC = parse(readFileSync(join(PROJECT_ROOT, 'openapi.yaml'), 'utf8'));
const SPEC_ID = 'openapi.yaml';

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats.default(ajv);
// OpenAPI's own words inside a document; none of them constrains a value.
ajv.addKeyword('openapi').addKeyword('info').addKeyword('servers').addKeyword('security');
ajv.addKeyword('tags').addKeyword('paths').addKeyword('components').addKeyword('webhooks');
ajv.addSchema(SPEC, SPEC_ID);

const pointer = (...parts: string[]) =>
  parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

const compiled = new Map<string, ValidateFunction>();
function validatorAt(path: string): ValidateFunction {
  let validate = compiled.get(path);
  if (!validate) {
    validate = ajv.compile({ $ref: `${SPEC_ID}#/${path}` });
    compiled.set(path, validate);
  }
  return validate;
}

/** Why `value` does not match the schema at `ref` (`#/components/schemas/Code`), or undefined when it does. */
export function mismatch(ref: string, value: unknown): string | undefined {
  const validate = validatorAt(ref.replace(/^#\//, ''));
  return validate(value) ? undefined : ajv.errorsText(validate.errors);
}

/** A `$ref` of the document itself (responses and headers are not JSON Schema refs). */
function resolve<T>(node: T & { $ref?: string }): { node: T; at: string | undefined } {
  if (!node.$ref) return { node, at: undefined };
  const at = node.$ref.replace(/^#\//, '');
  let target: any = SPEC;
  for (const part of at.split('/')) target = target[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  return { node: target as T, at };
}

const templates = Object.keys(SPEC.paths).map((template) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

/** The spec's path template for a request path, or undefined for a route it does not have. */
export function templateOf(path: string): string | undefined {
  const bare = path.split('?')[0] ?? path;
  return templates.find(({ pattern }) => pattern.test(bare))?.template;
}

function fail(message: string, body: string): never {
  throw new AssertionError({ message: `openapi.yaml: ${message}\n  answer: ${body.slice(0, 600)}` });
}

/**
 * Throws unless the answer is one that openapi.yaml describes for this request: its
 * status listed for the operation, its required headers present and well-formed,
 * its body valid against the schema. A path or method the spec does not have must be
 * answered `404 not_found`.
 */
export function checkResponse(
  method: string,
  path: string,
  status: number,
  headers: Headers,
  body: unknown,
  text: string,
): void {
  const template = templateOf(path);
  const verb = method.toLowerCase();
  const operation: Operation | undefined = template ? SPEC.paths[template][verb] : undefined;
  const where = `${method} ${template ?? path}`;
  if (!operation) {
    if (status !== 404 || (body as any)?.error?.code !== 'not_found') {
      fail(`${where} is not in the spec, so it must answer 404 not_found, not ${status}`, text);
    }
    const validate = validatorAt('components/schemas/Error');
    if (!validate(body)) fail(`${where} → 404: ${ajv.errorsText(validate.errors)}`, text);
    return;
  }
  const listed = operation.responses[String(status)];
  if (!listed) fail(`${where} answered ${status}, which the operation does not list`, text);
  const { node: response, at } = resolve<ResponseObject>(listed);
  const base = at ?? pointer('paths', template as string, verb, 'responses', String(status));

  for (const [name, declared] of Object.entries(response.headers ?? {})) {
    const { node: header } = resolve(declared);
    const value = headers.get(name);
    if (value === null) {
      if (header.required) fail(`${where} → ${status} lacks the header ${name}`, text);
      continue;
    }
    if (header.schema && !ajv.validate(header.schema, value)) {
      fail(`${where} → ${status} header ${name}: ${ajv.errorsText(ajv.errors)}`, text);
    }
  }

  const type = headers.get('content-type') ?? '';
  const media = response.content?.['application/json'];
  if (!media) {
    // A page or a file of the console: its type must be one the spec lists.
    const types = Object.keys(response.content ?? {});
    if (types.length > 0) {
      if (!types.some((listed) => type.startsWith(listed)))
        fail(`${where} → ${status} content-type is "${type}"`, text);
      return;
    }
    if (text !== '') fail(`${where} → ${status} has no body in the spec, but one came`, text);
    return;
  }
  if (!type.startsWith('application/json')) fail(`${where} → ${status} content-type is "${type}"`, text);
  const validate = validatorAt(`${base}/content/application~1json/schema`);
  if (!validate(body)) fail(`${where} → ${status}: ${ajv.errorsText(validate.errors)}`, text);
}

/**
 * A `fetch` that holds every answer to the spec, for the typed client in tests: the
 * client reads the answer as it comes, and the spec has judged it first.
 */
export const contractFetch: typeof fetch = async (input, init) => {
  const request = new Request(input, init);
  const response = await fetch(request);
  const text = await response.clone().text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const url = new URL(request.url);
  checkResponse(request.method, url.pathname, response.status, response.headers, body, text);
  return response;
};

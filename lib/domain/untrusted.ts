/**
 * Reading objects made from input (a request body, an export). Their keys are data:
 * `'constructor' in {}` is true and `{}['__proto__']` is Object.prototype, so only
 * own properties are read, and objects built from such keys have no prototype.
 */
export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const has = (object: Json | undefined, key: string): boolean =>
  object !== undefined && Object.hasOwn(object, key);

/** `object[key]` when it is the object's own, never an inherited value. */
export const own = (object: Json | undefined, key: string): unknown =>
  object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;

/**
 * A cPanel & WHM export split into import calls: `POST /v1/import/cpanel` takes at
 * most 1,000 logins and 1 MiB. Each chunk is a source of the export's own shape
 * (the raw `tfa_userdata.json`, or WHM API 1's `data`), holding whole logins in the
 * export's order, so the merged results follow it too.
 *
 * The export is untrusted input (an old server, a copy anyone could have altered):
 * every object built from its keys has no prototype, and every key is read as an own
 * property, so a login named `__proto__`, `constructor` or `prototype` is a login
 * like any other and can never reach `Object.prototype` (where the CLI would read
 * its options from).
 */
export const MAX_LOGINS_PER_CALL = 1000;
/** Below the route's 1 MiB, with room for the rest of the body. */
export const MAX_CHUNK_BYTES = 900 * 1024;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const has = (object: Json, key: string) => Object.hasOwn(object, key);

/** An object with no prototype: `__proto__` is an ordinary key there. */
function dict(entries: Iterable<[string, unknown]> = []): Json {
  const out: Json = Object.create(null);
  for (const [key, value] of entries) out[key] = value;
  return out;
}

/** A WHM API 1 answer (`{"data": {...}, "metadata": {...}}`) rather than a file whose login is "data". */
function logins(source: Json): Json {
  const data = has(source, 'data') ? source.data : undefined;
  const whmAnswer =
    isObject(data) &&
    !has(data, 'secret') &&
    Object.keys(source).every((key) => key === 'data' || key === 'metadata');
  return whmAnswer ? data : source;
}

/** One login, as a source of its own: `{"<login>": {...}}` or `{"<cpuser>": {"<part>": ...}}`. */
function pieces(source: Json): Json[] {
  return Object.entries(logins(source)).flatMap(([name, entry]): Json[] => {
    if (!isObject(entry) || has(entry, 'secret')) return [dict([[name, entry]])];
    const parts: Json[] = [];
    if (has(entry, 'primary_account'))
      parts.push(dict([[name, dict([['primary_account', entry.primary_account]])]]));
    for (const part of ['email', 'team']) {
      if (!has(entry, part)) continue;
      const users = entry[part];
      if (isObject(users)) {
        for (const [login, user] of Object.entries(users))
          parts.push(dict([[name, dict([[part, dict([[login, user]])]])]]));
      } else parts.push(dict([[name, dict([[part, users]])]]));
    }
    return parts.length > 0 ? parts : [dict([[name, entry]])];
  });
}

/** Merges one-login sources back into one source, keeping their order. */
function merge(into: Json, piece: Json) {
  for (const [name, entry] of Object.entries(piece)) {
    const have = has(into, name) ? into[name] : undefined;
    if (isObject(have) && isObject(entry) && !has(entry, 'secret')) {
      for (const [part, value] of Object.entries(entry)) {
        const existing = has(have, part) ? have[part] : undefined;
        have[part] =
          isObject(existing) && isObject(value) && part !== 'primary_account'
            ? dict([...Object.entries(existing), ...Object.entries(value)])
            : value;
      }
    } else into[name] = isObject(entry) && !has(entry, 'secret') ? dict(Object.entries(entry)) : entry;
  }
}

/** The export as sources of at most 1,000 logins and about 900 KiB each. */
export function cpanelChunks(source: unknown): Json[] {
  if (!isObject(source)) throw new Error('the export must be a JSON object');
  const chunks: Json[] = [];
  let chunk = dict();
  let count = 0;
  let bytes = 2;
  for (const piece of pieces(source)) {
    const size = JSON.stringify(piece).length;
    if (count > 0 && (count === MAX_LOGINS_PER_CALL || bytes + size > MAX_CHUNK_BYTES)) {
      chunks.push(chunk);
      chunk = dict();
      count = 0;
      bytes = 2;
    }
    merge(chunk, piece);
    count++;
    bytes += size;
  }
  if (count > 0) chunks.push(chunk);
  return chunks;
}

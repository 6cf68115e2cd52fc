/**
 * A cPanel & WHM export split into import calls: `POST /v1/import/cpanel` takes at
 * most 1,000 logins and 1 MiB. Each chunk is a source of the export's own shape
 * (the raw `tfa_userdata.json`, or WHM API 1's `data`), holding whole logins in the
 * export's order, so the merged results follow it too.
 */
export const MAX_LOGINS_PER_CALL = 1000;
/** Below the route's 1 MiB, with room for the rest of the body. */
export const MAX_CHUNK_BYTES = 900 * 1024;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One login, as a source of its own: `{"<login>": {...}}` or `{"<cpuser>": {"<part>": ...}}`. */
function pieces(source: Json): Json[] {
  const { data, ...rest } = source;
  const whmAnswer =
    isObject(data) && !('secret' in data) && Object.keys(rest).every((key) => key === 'metadata');
  const logins = whmAnswer ? data : source;
  return Object.entries(logins).flatMap(([name, entry]): Json[] => {
    if (!isObject(entry) || 'secret' in entry) return [{ [name]: entry }];
    const parts: Json[] = [];
    if ('primary_account' in entry) parts.push({ [name]: { primary_account: entry.primary_account } });
    for (const part of ['email', 'team']) {
      const users = entry[part];
      if (isObject(users)) {
        for (const [login, user] of Object.entries(users))
          parts.push({ [name]: { [part]: { [login]: user } } });
      } else if (users !== undefined) parts.push({ [name]: { [part]: users } });
    }
    return parts.length > 0 ? parts : [{ [name]: entry }];
  });
}

/** Merges one-login sources back into one source, keeping their order. */
function merge(into: Json, piece: Json) {
  for (const [name, entry] of Object.entries(piece)) {
    const have = into[name];
    if (isObject(have) && isObject(entry) && !('secret' in entry)) {
      for (const [part, value] of Object.entries(entry)) {
        const existing = have[part];
        have[part] =
          isObject(existing) && isObject(value) && part !== 'primary_account'
            ? { ...existing, ...value }
            : value;
      }
    } else into[name] = isObject(entry) && !('secret' in entry) ? { ...entry } : entry;
  }
}

/** The export as sources of at most 1,000 logins and about 900 KiB each. */
export function cpanelChunks(source: unknown): Json[] {
  if (!isObject(source)) throw new Error('the export must be a JSON object');
  const chunks: Json[] = [];
  let chunk: Json = {};
  let count = 0;
  let bytes = 2;
  for (const piece of pieces(source)) {
    const size = JSON.stringify(piece).length;
    if (count > 0 && (count === MAX_LOGINS_PER_CALL || bytes + size > MAX_CHUNK_BYTES)) {
      chunks.push(chunk);
      chunk = {};
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

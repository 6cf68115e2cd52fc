import { cpanelChunks, MAX_CHUNK_BYTES, MAX_LOGINS_PER_CALL } from './cpanelChunks.ts';

/**
 * An export of any format split into import calls of at most 1,000 logins and about
 * 900 KiB each, whole logins in the export's order, each chunk a source of the
 * format's own shape (so the service reads every chunk as it reads the whole):
 * - `cpanel`: cpanelChunks;
 * - `hestia`: a JSON object's users, or the `v-list-user` objects of a text one after another;
 * - `webmin`, `otpauth`: lines (comments and blank lines travel with the next login);
 * - `cyberpanel`: a JSON array's rows, or the text's rows under its header line.
 * The service judges each chunk; what cannot be split as its format is sent whole.
 */
export type ImportFormatName = 'cpanel' | 'hestia' | 'webmin' | 'cyberpanel' | 'otpauth';

export function importChunks(format: ImportFormatName, text: string): unknown[] {
  switch (format) {
    case 'cpanel':
      return cpanelChunks(JSON.parse(text));
    case 'hestia':
      return hestiaChunks(text);
    case 'cyberpanel':
      return cyberpanelChunks(text);
    default:
      return inGroups(loginLines(text.split(/\r\n|\n|\r/)), (lines) => lines.join('\n'));
  }
}

/** Items grouped in order, at most MAX_LOGINS_PER_CALL and about MAX_CHUNK_BYTES a group. */
function inGroups<T, C>(
  items: T[],
  make: (group: T[]) => C,
  size = (item: T) => JSON.stringify(item).length,
): C[] {
  const groups: C[] = [];
  let group: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const itemBytes = size(item);
    if (group.length > 0 && (group.length === MAX_LOGINS_PER_CALL || bytes + itemBytes > MAX_CHUNK_BYTES)) {
      groups.push(make(group));
      group = [];
      bytes = 0;
    }
    group.push(item);
    bytes += itemBytes;
  }
  if (group.length > 0) groups.push(make(group));
  return groups;
}

/** A line format's logins, each with the comments and blank lines before it. */
function loginLines(lines: string[]): string[] {
  const logins: string[] = [];
  let before: string[] = [];
  for (const line of lines) {
    if (line.trim() === '' || line.startsWith('#')) before.push(line);
    else {
      logins.push([...before, line].join('\n'));
      before = [];
    }
  }
  return logins;
}

function hestiaChunks(text: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // `v-list-user` objects one after another: each closes with a `}` alone on its line.
    const objects = text.split(/(?<=^\}[ \t]*)$/m).filter((part) => part.trim() !== '');
    return inGroups(
      objects,
      (group) => group.join(''),
      (part) => part.length,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return [parsed];
  const users = Object.entries(parsed);
  return inGroups(users, (group) => {
    const chunk: Record<string, unknown> = Object.create(null);
    for (const [user, fields] of group) chunk[user] = fields;
    return chunk;
  });
}

function cyberpanelChunks(text: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const [header = '', ...rows] = text.split(/\r\n|\n|\r/).filter((line) => line.trim() !== '');
    return inGroups(
      rows,
      (group) => [header, ...group].join('\n'),
      (row) => row.length,
    );
  }
  return Array.isArray(parsed) ? inGroups(parsed, (group) => group) : [parsed];
}

import { terminalCell, terminalText } from './safeText.ts';

/**
 * What the CLI prints. For people: tables and sentences on stdout, errors on stderr.
 * With `--json`: exactly one JSON document on stdout, and nothing else there.
 */
export interface Output {
  json: boolean;
  /** A sentence or a table, for people; nothing with `--json`. */
  say(text: string): void;
  /** The one JSON document, with `--json`. */
  document(value: unknown): void;
  /** Errors and warnings: stderr, in both modes. */
  warn(text: string): void;
}

export function consoleOutput(json: boolean, streams = { out: process.stdout, err: process.stderr }): Output {
  return {
    json,
    say: (text) => {
      if (!json) streams.out.write(`${terminalText(text)}\n`);
    },
    document: (value) => {
      if (json) streams.out.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    warn: (text) => streams.err.write(`${terminalText(text)}\n`),
  };
}

/** Prints the API's answer as it is with `--json`, else the sentence or table made of it. */
export function show<T>(output: Output, value: T, forPeople: (value: T) => string): void {
  if (output.json) output.document(value);
  else output.say(forPeople(value));
}

/** Columns padded to their widest cell; `null` and `undefined` print as `-`. */
export function table(headers: string[], rows: unknown[][]): string {
  const cells = [
    headers,
    ...rows.map((row) =>
      row.map((cell) => (cell === null || cell === undefined ? '-' : terminalCell(String(cell)))),
    ),
  ];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `label: value` lines, aligned. */
export function fields(entries: [string, unknown][]): string {
  const width = Math.max(...entries.map(([label]) => label.length));
  return entries
    .map(
      ([label, value]) =>
        `${`${label}:`.padEnd(width + 2)}${value === null || value === undefined ? '-' : terminalCell(String(value))}`,
    )
    .join('\n');
}

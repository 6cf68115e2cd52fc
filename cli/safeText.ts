/**
 * What the CLI writes for people holds text that came from elsewhere: user ids from a
 * file, messages from the service. Two readers are at risk:
 *
 * - a spreadsheet opening a CSV report runs a cell that starts with `=`, `+`, `-`, `@`,
 *   a tab or a carriage return as a formula (OWASP "CSV Injection"): such a cell is
 *   written with a leading `'`, which spreadsheets show as text. No user id starts
 *   with `'`, so a report read back (`--resume`) takes it off again;
 * - a terminal obeys control characters (escape sequences can rewrite what is on the
 *   screen, a CR can hide a line): each is shown as a visible escape.
 */

const FORMULA_START = /^[=+\-@\t\r]/;
// C0 controls, DEL and C1 controls; \n only where the caller says a line ends.
/* eslint-disable no-control-regex -- matching control characters is the point */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
/* eslint-enable no-control-regex */

const visible = (char: string) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** One cell of a CSV report: no formula, no control character. */
export function csvCell(value: string): string {
  const text = value.replace(CONTROL, visible);
  return FORMULA_START.test(value) ? `'${text}` : text;
}

/** A cell read back from a report written with csvCell. */
export const fromCsvCell = (cell: string) => (/^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell);

/** One value on a terminal line: every control character visible, newlines included. */
export const terminalCell = (value: string) => value.replace(CONTROL, visible);

/** Lines for a terminal: the line breaks the CLI made stay, every other control is shown. */
export const terminalText = (text: string) => text.replace(CONTROL_BUT_NEWLINE, visible);

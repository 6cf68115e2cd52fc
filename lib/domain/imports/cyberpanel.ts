import { isObject, own } from '../untrusted.ts';
import { InvalidSource, linesOf, PANEL_TOTP, type SourceLogin } from './sourceLogins.ts';

/**
 * CyberPanel (2.3 and later): rows of its `loginSystem_administrator` table, as an array
 * `[{"userName", "email", "twoFA", "secretKey"}]` or as `mysql -B` prints them
 * (tab-separated, a header line of column names first, NULL as `NULL`), e.g.
 * `mysql -B -e 'SELECT userName, email, twoFA, secretKey FROM loginSystem_administrator' cyberpanel`.
 * Columns are found by name, so a `SELECT *` works too; every other column (its
 * password hash among them) is never kept. A row with `twoFA` other than 1, or a
 * `secretKey` of `None`, is `not_enrolled`. The user's e-mail is the account name.
 */
export function cyberpanelLogins(source: unknown): SourceLogin[] {
  const rows = typeof source === 'string' ? rowsOfTable(source) : source;
  if (!Array.isArray(rows)) throw new InvalidSource(expected);
  return rows.map((row: unknown, index): SourceLogin => {
    const userName = isObject(row) ? own(row, 'userName') : undefined;
    if (!isObject(row) || typeof userName !== 'string') {
      throw new InvalidSource(`${expected} (row ${index + 1} has no userName)`);
    }
    const secret = own(row, 'secretKey');
    const email = own(row, 'email');
    // twoFA is a number in the JSON of a row, text in mysql's.
    const enrolled = String(own(row, 'twoFA')) === '1';
    if (
      !enrolled ||
      secret === undefined ||
      secret === null ||
      ['', 'None', 'NULL'].includes(String(secret))
    ) {
      return { userId: userName, outcome: 'not_enrolled' };
    }
    return {
      userId: userName,
      secret,
      parameters: PANEL_TOTP,
      ...(typeof email === 'string' && email !== '' && email !== 'NULL' ? { accountName: email } : {}),
    };
  });
}

const expected =
  'source must be rows of loginSystem_administrator: [{"userName", "email", "twoFA", "secretKey"}], or the tab-separated text of `mysql -B` with its header line';

/** `mysql -B`'s text: the header names the columns; each line after it is one row. */
function rowsOfTable(text: string): Record<string, string>[] {
  const [header = '', ...lines] = linesOf(text).filter((line) => line.trim() !== '');
  const columns = header.split('\t').map((name) => name.trim());
  if (!columns.includes('userName') || !columns.includes('twoFA') || !columns.includes('secretKey')) {
    throw new InvalidSource(`${expected} (the header names no userName, twoFA and secretKey columns)`);
  }
  return lines.map((line, index) => {
    const cells = line.split('\t');
    if (cells.length !== columns.length) {
      throw new InvalidSource(
        `${expected} (row ${index + 1} has ${cells.length} columns, the header ${columns.length})`,
      );
    }
    const row: Record<string, string> = Object.create(null);
    columns.forEach((name, at) => {
      if (name === 'userName' || name === 'email' || name === 'twoFA' || name === 'secretKey')
        row[name] = cells[at] ?? '';
    });
    return row;
  });
}

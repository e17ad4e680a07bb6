import type { HttpResult } from "./types.js";

export type CsvCell = string | number | boolean | null | undefined;

/**
 * Spreadsheets run a cell that starts with one of these as a formula (CSV injection, OWASP);
 * tab and carriage return count too, since some of them strip those first.
 * https://owasp.org/www-community/attacks/CSV_Injection
 */
const FORMULA_START = /^[=+\-@\t\r]/;
/**
 * What a reader may split a cell on: the comma, the semicolon of semicolon locales, tab and
 * line ends. A formula starter right after one begins a cell for a reader that splits there.
 */
const AFTER_SEPARATOR = /([,;\t\r\n])([=+\-@])/g;

/**
 * One cell per RFC 4180: quoted when it holds a separator (comma, semicolon, tab, CR, LF) or
 * a quote (quotes doubled). Text that a spreadsheet would take for a formula, at the start of
 * the cell or after any separator, gets an apostrophe before it; numbers are ours, not user
 * text, and stay as they are (a negative number is not a formula).
 */
export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  if (typeof value === "boolean") return value ? "true" : "false";
  const inner = value.replace(AFTER_SEPARATOR, "$1'$2");
  const guarded = FORMULA_START.test(inner) ? `'${inner}` : inner;
  return /[",;\t\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}

/** A whole document: the header row, then one row per record, CRLF line ends (RFC 4180). */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return [header, ...rows].map((row) => `${row.map(csvCell).join(",")}\r\n`).join("");
}

/** A CSV response offered as a download named `filename`. */
export function csvResponse(
  filename: string,
  body: string,
  headers: Record<string, string> = {},
): HttpResult {
  return {
    statusCode: 200,
    headers: {
      "content-type": "text/csv; charset=utf-8; header=present",
      "content-disposition": `attachment; filename="${filename.replace(/[^\w.-]/g, "_")}"`,
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
      ...headers,
    },
    body,
  };
}

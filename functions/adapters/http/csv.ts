import type { HttpResult } from "./types.js";

export type CsvCell = string | number | boolean | null | undefined;

/**
 * Spreadsheets run a cell that starts with one of these as a formula (CSV injection, OWASP);
 * tab and carriage return count too, since some of them strip those first.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell per RFC 4180: quoted when it holds a comma, quote, CR or LF (quotes doubled).
 * Text that a spreadsheet would take for a formula gets a leading apostrophe; numbers are
 * ours, not user text, and stay as they are (a negative number is not a formula).
 */
export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  if (typeof value === "boolean") return value ? "true" : "false";
  const guarded = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
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

import { describe, expect, it } from "vitest";
import { csvCell, toCsv } from "../../../functions/adapters/http/csv.js";
import {
  SESSION_SECONDS,
  sessionValid,
  sessionValue,
} from "../../../functions/adapters/http/session.js";
import { escapeHtml, html, SafeHtml, safeHref } from "../../../functions/pages/html.js";

describe("csvCell", () => {
  it.each<[Parameters<typeof csvCell>[0], string]>([
    ["plain", "plain"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["cr\rhere", '"cr\rhere"'],
    ["=1+2", "'=1+2"],
    ["+1", "'+1"],
    ["-1", "'-1"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\tTAB", `"'\tTAB"`], // quoted too: a tab separates cells for some readers
    ['=HYPERLINK("http://evil","x")', `"'=HYPERLINK(""http://evil"",""x"")"`],
    ["a=b", "a=b"],
    // A reader that splits on ';' (semicolon locales), tabs or commas, quotes or not.
    ["a;=1+1", `"a;'=1+1"`],
    ["a;b", '"a;b"'],
    ["x,@SUM(A1)", `"x,'@SUM(A1)"`],
    ["a\t+1", `"a\t'+1"`],
    ["one\n-1", `"one\n'-1"`],
    ["=a;=b", `"'=a;'=b"`],
    [-3, "-3"],
    [1.5, "1.5"],
    [Number.NaN, ""],
    [null, ""],
    [undefined, ""],
    [true, "true"],
  ])("writes %j as %s", (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it("writes a header row and CRLF-terminated records", () => {
    expect(
      toCsv(
        ["a", "b"],
        [
          ["x,y", 2],
          [null, "=z"],
        ],
      ),
    ).toBe(`a,b\r\n"x,y",2\r\n,'=z\r\n`);
  });
});

describe("html", () => {
  const attack = `<script>alert(1)</script>"><img src=x onerror=alert(1)>'\``;

  it("escapes every interpolated value, in text and in attributes", () => {
    const out = html`<p title="${attack}">${attack}</p>`.value;
    expect(out).not.toContain("<script>");
    expect(out).not.toContain("<img");
    expect(out).not.toMatch(/"><img/);
    expect(out).toBe(`<p title="${escapeHtml(attack)}">${escapeHtml(attack)}</p>`);
    expect(escapeHtml(attack)).toBe(
      "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&#96;",
    );
  });

  it("keeps markup made by html, escapes what is inside it, and flattens arrays", () => {
    const items = ["<b>", "ok"].map((s) => html`<li>${s}</li>`);
    expect(html`<ul>${items}</ul>`.value).toBe("<ul><li>&lt;b&gt;</li><li>ok</li></ul>");
    expect(html`${null}${undefined}${false}${0}`.value).toBe("0");
    expect(html`${new SafeHtml("<i>")}`.value).toBe("<i>");
  });

  it.each([
    ["https://runbooks.example/a?b=1", "https://runbooks.example/a?b=1"],
    ["http://grafana.example/d/x", "http://grafana.example/d/x"],
    ["/?incident=1", "/?incident=1"],
    ["javascript:alert(1)", null],
    [" javascript:alert(1)", null],
    ["JaVaScRiPt:alert(1)", null],
    ["data:text/html,<script>", null],
    ["//evil.example/", null],
    ["not a url", null],
    [null, null],
  ])("safeHref(%j) is %j", (url, expected) => {
    expect(safeHref(url)).toBe(expected);
  });
});

describe("session cookie value", () => {
  const now = new Date("2026-11-30T09:00:00Z");
  const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
  const token = "s3cret-api-token";
  const value = sessionValue(token, now);

  it("holds no trace of the token", () => {
    expect(value).not.toContain(token);
    expect(value).toMatch(/^v1\.\d+\.[\w-]{43}$/);
  });

  it.each([
    ["the same token, in time", token, later(60), true],
    ["a changed token", "rotated-token", later(60), false],
    ["after it expires", token, later(SESSION_SECONDS + 1), false],
  ])("is valid with %s: %s", (_what, check, at, expected) => {
    expect(sessionValid(value, check, at)).toBe(expected);
  });

  it.each([
    "",
    "v1.abc.def",
    value.replace(/\.(\d+)\./, (_m, n) => `.${Number(n) + 3600}.`),
    `${value}x`,
    token,
  ])("refuses a forged or mangled value %j", (forged) => {
    expect(sessionValid(forged, token, later(60))).toBe(false);
  });
});

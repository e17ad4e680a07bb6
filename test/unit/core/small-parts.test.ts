import { describe, expect, it } from "vitest";
import { parseDuration } from "../../../functions/core/duration.js";
import { labelsFingerprint } from "../../../functions/core/fingerprint.js";
import { matches, parseMatcher } from "../../../functions/core/matchers.js";
import { normalizeSeverity } from "../../../functions/core/severity.js";

describe("fingerprints", () => {
  it("equal Alertmanager's for the same labels (captured from Alertmanager 0.25)", () => {
    expect(
      labelsFingerprint({ alertname: "HighErrorRate", service: "checkout", severity: "critical" }),
    ).toBe("7d2d332feada5c59");
  });
  it("do not depend on label order", () => {
    expect(labelsFingerprint({ b: "2", a: "1" })).toBe(labelsFingerprint({ a: "1", b: "2" }));
  });
  it("separate names from values", () => {
    expect(labelsFingerprint({ ab: "c" })).not.toBe(labelsFingerprint({ a: "bc" }));
  });
});

describe("severity", () => {
  const table: Array<[string | undefined, string]> = [
    ["critical", "critical"],
    ["CRITICAL", "critical"],
    ["page", "critical"],
    [" error ", "high"],
    ["high", "high"],
    ["warn", "warning"],
    ["info", "info"],
    ["none", "info"],
    ["bogus", "warning"],
    [undefined, "warning"],
  ];
  it.each(table)("%s -> %s", (label, expected) => {
    expect(normalizeSeverity(label, "warning")).toBe(expected);
  });
});

describe("matchers", () => {
  const table: Array<[string, Record<string, string>, boolean]> = [
    ['team="ml"', { team: "ml" }, true],
    ['team="ml"', { team: "ml2" }, false],
    ["team=ml", { team: "ml" }, true],
    ['team!="ml"', {}, true],
    ['team=""', {}, true],
    ['team=~"ml|db"', { team: "db" }, true],
    ['team=~"ml|db"', { team: "mldb" }, false],
    ['team!~"ml.*"', { team: "mlops" }, false],
    ['msg="say \\"hi\\""', { msg: 'say "hi"' }, true],
  ];
  it.each(table)("%s on %j is %s", (text, labels, expected) => {
    expect(matches(parseMatcher(text), labels)).toBe(expected);
  });
  it.each(["team", '="x"', 'team~"x"', '1team="x"'])("refuses %s", (text) => {
    expect(() => parseMatcher(text)).toThrow(/bad matcher/);
  });
});

describe("durations", () => {
  const table: Array<[string, number | null]> = [
    ["0", 0],
    ["30s", 30],
    ["15m", 900],
    ["1h30m", 5400],
    ["2w", 1_209_600],
    ["1d", 86_400],
    ["", null],
    ["15", null],
    ["m", null],
    ["1x", null],
  ];
  it.each(table)("%s -> %s", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });
});

/**
 * The ML pack as a whole, read from its files: every alerting rule has a severity, a team and
 * a runbook that serves it; every rule has a promtool case where it fires and one where it
 * stays quiet; every runbook's `$label` placeholders are labels that each alert it serves
 * carries when it fires (as the promtool cases assert them), so notifications fill them all.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadRunbooks } from "../../../functions/adapters/runbook-files.js";
import { SEVERITIES } from "../../../functions/core/alert.js";
import { matchesAll } from "../../../functions/core/matchers.js";
import { runbookPlaceholders } from "../../../functions/core/runbook.js";
import { loadAlertingRules } from "../../support/prometheus-rules.js";

const REPO = fileURLToPath(new URL("../../..", import.meta.url));
const DIR = join(REPO, "examples/prometheus");
const files = readdirSync(DIR);
const rules = new Map(
  files
    .filter((f) => f.endsWith(".rules.yml"))
    .flatMap((f) => [...loadAlertingRules(join(DIR, f)).entries()]),
);
const runbooks = loadRunbooks(join(REPO, "runbooks"));

interface AlertTest {
  alertname: string;
  exp_alerts?: Array<{ exp_labels?: Record<string, string> }>;
}
interface UnitTests {
  tests: Array<{ name: string; alert_rule_test?: AlertTest[] }>;
}
const cases = files
  .filter((f) => f.endsWith(".test.yml"))
  .flatMap((f) => (parse(readFileSync(join(DIR, f), "utf8")) as UnitTests).tests)
  .flatMap((test) => test.alert_rule_test ?? []);

/** The labels an alert carries in every case where it fires (alertname included). */
function carriedLabels(alertname: string): Set<string> {
  const labelSets = cases
    .filter((c) => c.alertname === alertname)
    .flatMap((c) => c.exp_alerts ?? [])
    .map((a) => new Set([...Object.keys(a.exp_labels ?? {}), "alertname"]));
  const [first, ...rest] = labelSets;
  return new Set([...(first ?? [])].filter((name) => rest.every((set) => set.has(name))));
}

describe("the ML alerting pack", () => {
  it("covers the brief's 16 alerts and every threshold of its metric tables", () => {
    expect(rules.size).toBeGreaterThanOrEqual(50);
  });

  it.each([...rules.keys()])("%s: severity, team, and a runbook that serves it", (name) => {
    const rule = rules.get(name)!;
    expect(SEVERITIES).toContain(rule.labels.severity);
    expect(rule.labels.team).toMatch(/^ml-(training|inference)$|\{\{ else \}\}ml-training/);
    const file = basename(rule.annotations.runbook_url ?? "");
    const runbook = runbooks.find((r) => r.file === file);
    expect(runbook, `runbooks/${file}`).toBeDefined();
    const labels = { alertname: name, severity: rule.labels.severity!, team: "ml-training" };
    const serves = runbook!.matchers.filter((m) => m.name === "alertname");
    expect(matchesAll(serves, labels), `${file} serves ${name}`).toBe(true);
  });

  it.each([...rules.keys()])(
    "%s: a promtool case where it fires and one where it is quiet",
    (name) => {
      const mine = cases.filter((c) => c.alertname === name);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        "fires",
      ).toBe(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        "quiet",
      ).toBe(true);
    },
  );

  it.each(runbooks.map((r) => [r.file, r] as const))(
    "%s: every placeholder is a label of each alert it serves",
    (_file, runbook) => {
      const served = [...rules.keys()].filter((name) =>
        matchesAll(
          runbook.matchers.filter((m) => m.name === "alertname"),
          { alertname: name },
        ),
      );
      expect(served.length, "alerts it serves").toBeGreaterThan(0);
      const used = runbookPlaceholders(`${runbook.summary}\n${runbook.body}`);
      for (const alertname of served) {
        const carried = carriedLabels(alertname);
        expect(
          used.filter((name) => !carried.has(name)),
          `${alertname} carries ${[...carried].join(", ")}`,
        ).toEqual([]);
      }
    },
  );
});

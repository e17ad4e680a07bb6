/**
 * The Grafana dashboards of examples/grafana/dashboards/: dashboard JSON Grafana can load
 * (the fields its schema needs, unique panel ids, a 24-column grid without overlaps, data
 * sources that name the dashboard's own variables), every PromQL expression valid for
 * promtool, and every metric it reads produced by an exporter the pack reads or by one of its
 * recording rules.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";

const REPO = fileURLToPath(new URL("../../..", import.meta.url));
const DASHBOARDS = join(REPO, "examples/grafana/dashboards");
const RULES = join(REPO, "examples/prometheus");
const hasPromtool = spawnSync("sh", ["-c", "command -v promtool"]).status === 0;

interface DataSourceRef {
  type: string;
  uid: string;
}
interface Target {
  refId: string;
  expr?: string;
  datasource?: DataSourceRef;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: DataSourceRef;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: DataSourceRef;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: { list: Array<{ name: string; expr?: string; datasource: DataSourceRef }> };
}

const dashboards = readdirSync(DASHBOARDS)
  .filter((f) => f.endsWith(".json"))
  .map(
    (file) =>
      [file, JSON.parse(readFileSync(join(DASHBOARDS, file), "utf8")) as Dashboard] as const,
  );

/** Panel types of Grafana's core (no plugin needed). */
const PANEL_TYPES = ["stat", "timeseries", "bargauge", "table", "logs", "gauge", "heatmap", "text"];

/** Grafana's variables as a query would see them on a real dashboard. */
function withVariables(expr: string): string {
  return expr
    .replaceAll("$__rate_interval", "5m")
    .replaceAll("$__range", "6h")
    .replaceAll("$__interval", "1m")
    .replace(/\$(\w+)/g, "x");
}

/** The PromQL of a dashboard: panel targets, annotation queries and query variables. */
function promQl(dashboard: Dashboard): Array<{ where: string; expr: string }> {
  const panels = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? [])
      .filter((t) => (t.datasource ?? panel.datasource)?.type === "prometheus" && t.expr)
      .map((t) => ({ where: `panel "${panel.title}" ${t.refId}`, expr: t.expr! })),
  );
  const annotations = dashboard.annotations.list
    .filter((a) => a.datasource.type === "prometheus" && a.expr)
    .map((a) => ({ where: `annotation "${a.name}"`, expr: a.expr! }));
  const variables = dashboard.templating.list
    .filter((v) => v.type === "query")
    .map((v) => {
      const query = typeof v.query === "string" ? v.query : v.query.query;
      const labelValues = /^label_values\((.+),\s*\w+\)$/.exec(query);
      return { where: `variable ${v.name}`, expr: labelValues ? labelValues[1]! : query };
    });
  return [...panels, ...annotations, ...variables];
}

const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "by", "without", "on"]);
KEYWORDS.add("ignoring").add("group_left").add("group_right").add("Inf").add("NaN");

/** The metric names a PromQL expression selects (functions, labels and keywords left out). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = [...bare.matchAll(/(?<![\w.:])[a-zA-Z_:][\w:]*/g)]
    .filter((m) => !/^\s*\(/.test(bare.slice(m.index + m[0].length)))
    .map((m) => m[0]);
  return [...new Set(names.filter((name) => !KEYWORDS.has(name)))];
}

/** What the pack can read: recorded names, and every metric its rules read from exporters. */
function knownMetrics(): Set<string> {
  const known = new Set(["ALERTS"]);
  for (const file of readdirSync(RULES).filter((f) => f.endsWith(".rules.yml"))) {
    const rules = (
      parse(readFileSync(join(RULES, file), "utf8")) as {
        groups: Array<{ rules: Array<{ record?: string; expr: string }> }>;
      }
    ).groups.flatMap((g) => g.rules);
    for (const rule of rules) {
      if (rule.record) known.add(rule.record);
      for (const name of metricNames(rule.expr)) known.add(name);
    }
  }
  return known;
}

describe("metric names in PromQL", () => {
  it.each([
    [
      'sum by (model, le) (rate(inference_ttft_seconds_bucket{model="$model"}[5m]))',
      ["inference_ttft_seconds_bucket"],
    ],
    [
      "up == 0 and on (job, instance) last_over_time(DCGM_FI_DEV_GPU_TEMP[1d])",
      ["up", "DCGM_FI_DEV_GPU_TEMP"],
    ],
    [
      'label_replace(vllm:num_requests_running, "model", "$1", "model_name", "(.+)") * 0 + 1',
      ["vllm:num_requests_running"],
    ],
    ["x / ignoring (phase) y offset 1h > 0.4 or vector(0)", ["x", "y"]],
  ])("%s", (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });
});

describe.each(dashboards)("examples/grafana/dashboards/%s", (_file, dashboard) => {
  const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));

  it("has what Grafana needs to load it", () => {
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.title).not.toBe("");
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.panels.length).toBeGreaterThan(8);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(PANEL_TYPES, panel.title).toContain(panel.type);
      const refs = (panel.targets ?? []).map((t) => t.refId);
      expect(refs.length, panel.title).toBeGreaterThan(0);
      expect(new Set(refs).size, panel.title).toBe(refs.length);
    }
  });

  it("lays its panels out on Grafana's 24-column grid without overlaps", () => {
    const cells = new Set<string>();
    for (const { title, gridPos } of dashboard.panels) {
      expect(gridPos.x + gridPos.w, title).toBeLessThanOrEqual(24);
      expect(gridPos.w * gridPos.h, title).toBeGreaterThan(0);
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++) {
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it("names its data sources through its own data source variables", () => {
    const refs = [
      ...dashboard.panels.flatMap((p) => [
        p.datasource,
        ...(p.targets ?? []).map((t) => t.datasource),
      ]),
      ...dashboard.annotations.list.map((a) => a.datasource),
      ...dashboard.templating.list.map((v) => v.datasource),
    ].filter((ref): ref is DataSourceRef => ref !== undefined && ref.type !== "grafana");
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const variable = variables.get(ref.uid.replace(/^\$\{(\w+)\}$/, "$1"));
      expect(variable, ref.uid).toMatchObject({ type: "datasource", query: ref.type });
    }
  });

  it("reads only metrics the pack's exporters or recording rules produce", () => {
    const known = knownMetrics();
    for (const { where, expr } of promQl(dashboard)) {
      const unknown = metricNames(withVariables(expr)).filter((name) => !known.has(name));
      expect(unknown, `${where}: ${expr}`).toEqual([]);
    }
  });

  it.skipIf(!hasPromtool && !process.env.CI)("has PromQL that promtool accepts", () => {
    const dir = mkdtempSync(join(tmpdir(), "tocsin-dashboard-"));
    try {
      const rules = promQl(dashboard).map(({ expr }, i) => ({
        record: `dashboard_check:${i}`,
        expr: withVariables(expr),
      }));
      writeFileSync(
        join(dir, "panels.rules.yml"),
        stringify({ groups: [{ name: "panels", rules }] }),
      );
      const output = execFileSync("promtool", ["check", "rules", join(dir, "panels.rules.yml")], {
        encoding: "utf8",
      });
      expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("examples/grafana/dashboards/dashboards.yaml", () => {
  it("provisions a file provider for the dashboards", () => {
    const provisioning = parse(readFileSync(join(DASHBOARDS, "dashboards.yaml"), "utf8")) as {
      apiVersion: number;
      providers: Array<{ type: string; options: { path: string } }>;
    };
    expect(provisioning.apiVersion).toBe(1);
    expect(provisioning.providers).toEqual([
      expect.objectContaining({
        type: "file",
        options: expect.objectContaining({ path: expect.any(String) }),
      }),
    ]);
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { routeAlert } from "../../../functions/core/route-tree.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";

const base = `
defaults: { severity: warning, team: platform }
teams:
  platform: { name: Platform }
  db: { name: Databases }
  ml: { name: ML }
channels:
  pd: { type: pagerduty }
  incidents: { type: slack, channel: "#incidents" }
  alerts: { type: slack, channel: "#alerts" }
  db-slack: { type: slack, channel: "#db" }
  audit: { type: email, address: audit@example.com }
escalationPolicies:
  standard: { levels: [{ after: 0, targets: [{ oncall: primary }] }] }
  slow: { levels: [{ after: 0, targets: [{ oncall: primary }] }] }
severities:
  critical: { channels: [incidents], escalation: standard }
  high: { channels: [alerts], escalation: standard, delay: 15m }
  warning: { channels: [alerts] }
  info: { channels: [] }
`;

const config = parseConfig(`${base}
route:
  routes:
    - matchers: ['service=~"postgres|mysql"']
      team: db
      routes:
        - matchers: ['env!="prod"']
          escalation: null
          channels: [db-slack]
    - matchers: ['team="ml"', 'alertname!~"Test.*"']
      team: ml
      continue: true
    - matchers: ['team="ml"']
      channels: [audit]
    - matchers: ['alertname="Flaky"']
      severity: info
`);

describe("route tree", () => {
  const cases: Array<[string, Record<string, string>, Partial<ReturnType<typeof routeAlert>>]> = [
    [
      "no route matches: the root and the severity's defaults",
      { alertname: "X", severity: "critical" },
      {
        team: "platform",
        severity: "critical",
        channels: ["incidents"],
        escalation: "standard",
        delay: 0,
        matchedRoutes: ["root"],
      },
    ],
    [
      "the high severity keeps its 15-minute delay",
      { alertname: "X", severity: "high" },
      { severity: "high", channels: ["alerts"], delay: 900 },
    ],
    [
      "a synonym is normalised before matching",
      { alertname: "X", severity: "page" },
      { severity: "critical" },
    ],
    [
      "an unknown severity gets the default",
      { alertname: "X", severity: "urgent-ish" },
      { severity: "warning", escalation: null },
    ],
    [
      "a regex matcher is anchored",
      { alertname: "X", service: "postgres-exporter", severity: "critical" },
      { team: "platform" },
    ],
    [
      "a regex matcher picks the team",
      { alertname: "X", service: "mysql", env: "prod", severity: "critical" },
      { team: "db", channels: ["incidents"], escalation: "standard", matchedRoutes: ["0"] },
    ],
    [
      "the deepest match wins and inherits the team",
      { alertname: "X", service: "mysql", env: "staging", severity: "critical" },
      { team: "db", channels: ["db-slack"], escalation: null, matchedRoutes: ["0.0"] },
    ],
    [
      "a missing label matches != as the empty string",
      { alertname: "X", service: "mysql", severity: "critical" },
      { matchedRoutes: ["0.0"] },
    ],
    [
      "continue: later siblings add their channels",
      { alertname: "Loss", team: "ml", severity: "critical" },
      { team: "ml", channels: ["incidents", "audit"], matchedRoutes: ["1", "2"] },
    ],
    [
      "!~ excludes, so only the later sibling matches",
      { alertname: "TestAlert", team: "ml", severity: "warning" },
      { team: "platform", channels: ["audit"], matchedRoutes: ["2"] },
    ],
    [
      "a route can force the severity",
      { alertname: "Flaky", severity: "critical" },
      { severity: "info", channels: [], escalation: null },
    ],
  ];
  it.each(cases)("%s", (_name, labels, expected) => {
    expect(routeAlert(config, labels)).toMatchObject(expected);
  });

  it("without a route tree everything goes to the default team", () => {
    expect(routeAlert(parseConfig(base), { alertname: "X", severity: "info" })).toEqual({
      team: "platform",
      severity: "info",
      channels: [],
      escalation: null,
      delay: 0,
      matchedRoutes: ["root"],
    });
  });
});

describe("the shipped tocsin.yaml encodes the product's routing table", () => {
  const shipped = parseConfig(
    readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"),
  );
  const table: Array<[string, Partial<ReturnType<typeof routeAlert>>]> = [
    [
      "critical",
      { channels: ["slack-incidents", "email-oncall"], escalation: "standard", delay: 0 },
    ],
    ["high", { channels: ["slack-alerts", "email-team"], escalation: "standard", delay: 900 }],
    ["warning", { channels: ["slack-alerts"], escalation: null }],
    ["info", { channels: [], escalation: null }],
  ];
  it.each(table)("%s", (severity, expected) => {
    expect(routeAlert(shipped, { alertname: "X", severity, team: "ml-training" })).toMatchObject({
      team: "ml-training",
      severity,
      ...expected,
    });
  });

  it("pages PagerDuty through the standard policy, at 0, 15, 30 and 60 minutes", () => {
    const policy = shipped.escalationPolicies.standard!;
    expect(policy.page).toEqual(["pagerduty"]);
    expect(policy.levels.map((level) => level.after)).toEqual([0, 900, 1800, 3600]);
    expect(policy.levels.map((level) => level.targets)).toEqual([
      [{ oncall: "primary" }],
      [{ oncall: "secondary" }],
      [{ role: "manager" }],
      [{ user: "vp" }],
    ]);
  });

  it("sends Grafana's Training folder to ml-training", () => {
    expect(
      routeAlert(shipped, { alertname: "GPUTemperature", grafana_folder: "Training" }).team,
    ).toBe("ml-training");
  });
});

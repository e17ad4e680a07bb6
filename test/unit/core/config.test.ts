import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { configProblem, MINIMAL_CONFIG } from "../../support/config-text.js";

const minimal = MINIMAL_CONFIG;
const problem = configProblem;

describe("config validation", () => {
  it("accepts a minimal config and fills defaults", () => {
    const config = parseConfig(minimal);
    expect(config.defaults).toEqual({ severity: "warning", team: "default" });
    expect(config.severities.high).toEqual({ channels: [], escalation: null, delay: 0 });
  });

  it("accepts IANA zones (canonical or alias) and real dates, and fills a rotation's defaults", () => {
    const config = parseConfig(
      `${minimal}\nusers: { ann: { name: Ann } }\nteams: { t: { name: T, schedules: { a: { rotation: { users: [ann], shift: 1d, start: "2028-02-29", timezone: America/Argentina/Buenos_Aires } }, b: { rotation: { users: [ann], shift: 1w, start: "2026-01-05" } }, c: { rotation: { users: [ann], shift: 1w, start: "2026-01-05", timezone: US/Eastern } } } } }`,
    );
    const schedules = config.teams.t!.schedules;
    expect(schedules.a!.rotation.timezone).toBe("America/Argentina/Buenos_Aires");
    expect(schedules.b!.rotation).toMatchObject({
      timezone: "UTC",
      handoff: "09:00",
      shift: 604_800,
    });
    expect(schedules.b!.overrides).toEqual([]);
    // An alias, not in Intl.supportedValuesOf("timeZone"), is a zone all the same.
    expect(schedules.c!.rotation.timezone).toBe("US/Eastern");
  });

  const bad: Array<[string, string, RegExp]> = [
    ["not YAML", "severities: [", /not valid YAML at line \d/],
    [
      "a missing severity",
      "severities: { critical: {}, high: {}, warning: {} }",
      /severities\.info: /,
    ],
    ["an unknown top-level field", `${minimal}\nroutes: []`, /\(top level\).*routes/],
    [
      "an unknown channel in a severity",
      minimal.replace("critical: { channels: [] }", "critical: { channels: [pager] }"),
      /severities\.critical\.channels\.0: unknown channel "pager"/,
    ],
    [
      "a bad duration",
      minimal.replace("high: { channels: [] }", "high: { channels: [], delay: 15 minutes }"),
      /severities\.high\.delay: not a duration/,
    ],
    [
      "a bad matcher",
      `${minimal}\nroute: { routes: [{ matchers: ['team~"x"'] }] }`,
      /route\.routes\.0\.matchers\.0: bad matcher/,
    ],
    [
      "a bad regex",
      `${minimal}\nroute: { routes: [{ matchers: ['team=~"("'] }] }`,
      /route\.routes\.0\.matchers\.0: bad regular expression/,
    ],
    [
      "an unknown team in a route",
      `${minimal}\nroute: { routes: [{ team: ghost }] }`,
      /route\.routes\.0\.team: unknown team "ghost"/,
    ],
    [
      "an unknown policy",
      minimal.replace("info: { channels: [] }", "info: { channels: [], escalation: nope }"),
      /severities\.info\.escalation: unknown escalation policy "nope"/,
    ],
    [
      "a bad email address",
      `${minimal}\nchannels: { mail: { type: email, address: not-an-address } }`,
      /channels\.mail\.address/,
    ],
    [
      "levels out of order",
      `${minimal}\nescalationPolicies: { p: { levels: [{ after: 15m, targets: [{ oncall: primary }] }, { after: 5m, targets: [{ oncall: secondary }] }] } }`,
      /escalationPolicies\.p\.levels\.1\.after: must be later/,
    ],
    [
      "an unknown user in a rotation",
      `${minimal}\nteams: { t: { name: T, schedules: { primary: { rotation: { users: [zed], shift: 1w, start: "2026-01-05" } } } } }`,
      /teams\.t\.schedules\.primary\.rotation\.users\.0: unknown user "zed"/,
    ],
    [
      "an unknown time zone",
      `${minimal}\nusers: { ann: { name: Ann } }\nteams: { t: { name: T, schedules: { primary: { rotation: { users: [ann], shift: 1w, start: "2026-01-05", timezone: Mars/Olympus } } } } }`,
      /rotation\.timezone: not an IANA time zone: "Mars\/Olympus"/,
    ],
    [
      "a date that is not in the calendar",
      `${minimal}\nusers: { ann: { name: Ann } }\nteams: { t: { name: T, schedules: { primary: { rotation: { users: [ann], shift: 1w, start: "2026-02-30" } } } } }`,
      /rotation\.start: not a calendar date/,
    ],
    [
      "a payload of the wrong type, in plain words",
      minimal.replace("info: { channels: [] }", "info: { channels: pager }"),
      /severities\.info\.channels: Invalid input: expected array, received string/,
    ],
    [
      "a repeat out of range",
      `${minimal}\nescalationPolicies: { p: { repeat: 11, levels: [{ after: 0, targets: [{ oncall: primary }] }] } }`,
      /escalationPolicies\.p\.repeat: Too big: expected number to be <=10/,
    ],
  ];
  it.each(bad)("refuses %s, naming the field", (_name, text, message) => {
    const text_ = problem(text);
    expect(text_).toMatch(message);
    expect(text_).toMatch(/^test\.yaml/);
  });
});

import { describe, expect, it } from "vitest";
import { labelSet } from "../../../functions/core/alert.js";
import { labelsFingerprint } from "../../../functions/core/fingerprint.js";
import { matches, parseMatcher } from "../../../functions/core/matchers.js";
import { routeAlert } from "../../../functions/core/route-tree.js";
import { fillPlaceholders } from "../../../functions/core/runbook.js";
import { normalizeSeverity } from "../../../functions/core/severity.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { parseAlertmanagerPayload } from "../../../functions/integrations/alertmanager/payload.js";

/*
 * Names that are members of Object.prototype are ordinary label names and values: from the
 * payload through the route tree, the runbook matchers and placeholders, to the fingerprint.
 * Bodies are JSON text, as senders post them: an object literal `{ __proto__: … }` would set
 * a prototype instead of a key.
 */

const PROTOTYPE_NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];

function alertmanagerBody(labels: string, annotations = "{}"): unknown {
  return JSON.parse(`{"version":"4","status":"firing","alerts":[{"status":"firing",
    "labels":${labels},"annotations":${annotations},"startsAt":"2026-11-30T09:00:00Z"}]}`);
}

describe("prototype names", () => {
  it.each([...PROTOTYPE_NAMES, "CONSTRUCTOR", " __Proto__ ", "ToString"])(
    "severity %j is an unknown severity: the default",
    (value) => {
      expect(normalizeSeverity(value, "warning")).toBe("warning");
      expect(normalizeSeverity(value, "info")).toBe("info");
    },
  );

  it("keeps a __proto__ label: it is part of the fingerprint and does not dedup with the rest", () => {
    const [withProto] = parseAlertmanagerPayload(alertmanagerBody('{"__proto__":"x","a":"b"}'));
    const [without] = parseAlertmanagerPayload(alertmanagerBody('{"a":"b"}'));
    expect(Object.keys(withProto!.labels)).toEqual(["__proto__", "a"]);
    expect(withProto!.labels.__proto__).toBe("x");
    expect(withProto!.fingerprint).not.toBe(without!.fingerprint);
    expect(withProto!.fingerprint).toBe(labelsFingerprint(withProto!.labels));
  });

  it("parses labels and annotations named like Object.prototype's members", () => {
    const names = PROTOTYPE_NAMES.map((name) => `"${name}":"v-${name}"`).join(",");
    const [alert] = parseAlertmanagerPayload(alertmanagerBody(`{${names}}`, `{${names}}`));
    for (const set of [alert!.labels, alert!.annotations]) {
      expect(Object.keys(set)).toEqual(PROTOTYPE_NAMES);
      for (const name of PROTOTYPE_NAMES) expect(set[name]).toBe(`v-${name}`);
    }
  });

  it("still names the field of a bad label value, and refuses a non-object", () => {
    expect(() => parseAlertmanagerPayload(alertmanagerBody('{"__proto__":3}'))).toThrow(
      expect.objectContaining({ field: "alerts.0.labels.__proto__" }),
    );
    expect(() => parseAlertmanagerPayload(alertmanagerBody('["a"]'))).toThrow(
      expect.objectContaining({ field: "alerts.0.labels" }),
    );
    expect(() => parseAlertmanagerPayload(alertmanagerBody('{"":"x"}'))).toThrow(
      expect.objectContaining({ field: "alerts.0.labels." }),
    );
  });

  it("matchers see only an alert's own labels: a missing `constructor` is empty", () => {
    const plain = { alertname: "X" };
    expect(matches(parseMatcher('constructor=""'), plain)).toBe(true);
    expect(matches(parseMatcher('constructor=~".+"'), plain)).toBe(false);
    expect(matches(parseMatcher('toString!~".+"'), plain)).toBe(true);
    const own = labelSet([["constructor", "c"]]);
    expect(matches(parseMatcher('constructor="c"'), own)).toBe(true);
  });

  it("routes an alert whose severity is `constructor` with the default severity", () => {
    const config = parseConfig(`
defaults: { severity: warning, team: platform }
teams: { platform: { name: Platform }, core: { name: Core } }
channels: { alerts: { type: slack, channel: "#alerts" } }
escalationPolicies: { standard: { levels: [{ after: 0, targets: [{ oncall: primary }] }] } }
severities:
  critical: { channels: [alerts], escalation: standard }
  high: { channels: [alerts], escalation: standard }
  warning: { channels: [alerts] }
  info: { channels: [] }
route:
  routes:
    - matchers: ['constructor=~".+"']
      team: core
`);
    const [alert] = parseAlertmanagerPayload(
      alertmanagerBody('{"alertname":"X","severity":"constructor"}'),
    );
    expect(routeAlert(config, alert!.labels)).toMatchObject({
      severity: "warning",
      team: "platform",
    });
    const [owned] = parseAlertmanagerPayload(alertmanagerBody('{"constructor":"yes"}'));
    expect(routeAlert(config, owned!.labels).team).toBe("core");
  });

  it("fills a runbook placeholder only from the alert's own labels", () => {
    expect(fillPlaceholders("see $constructor on $job", { job: "train" })).toBe(
      "see $constructor on train",
    );
  });
});

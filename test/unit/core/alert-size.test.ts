import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Alert, labelSet } from "../../../functions/core/alert.js";
import {
  ALERT_CONTENT_LIMIT,
  describeCuts,
  fitAlert,
  NAMES_LIMIT,
  utf8Length,
  utf8Prefix,
} from "../../../functions/core/alert-size.js";
import { InvalidInputError } from "../../../functions/core/errors.js";
import { alert as baseAlert } from "../../support/incidents.js";

const alertWith = (overrides: Partial<Alert>): Alert => ({ ...baseAlert("fp-size"), ...overrides });

/** What the incident keeps of an alert, in bytes: names and values, links, Grafana's extras. */
function contentBytes(alert: Alert): number {
  let bytes = 0;
  for (const set of [alert.labels, alert.annotations]) {
    for (const [name, value] of Object.entries(set)) bytes += utf8Length(name) + utf8Length(value);
  }
  for (const text of [
    alert.generatorUrl,
    alert.dashboardUrl,
    alert.silenceUrl,
    alert.imageUrl,
    alert.ruleId,
    alert.valueText,
  ]) {
    if (text) bytes += utf8Length(text);
  }
  if (alert.values) bytes += utf8Length(JSON.stringify(alert.values));
  return bytes;
}

describe("fitting an alert into one incident", () => {
  it("leaves an alert that fits as it is", () => {
    const alert = alertWith({});
    expect(fitAlert(alert)).toEqual({ alert, cuts: [] });
  });

  it("cuts one huge annotation and keeps the small values whole", () => {
    const alert = alertWith({
      annotations: labelSet([
        ["summary", "loss is NaN"],
        ["description", "x".repeat(400_000)],
      ]),
    });
    const { alert: fitted, cuts } = fitAlert(alert);
    expect(contentBytes(fitted)).toBeLessThanOrEqual(ALERT_CONTENT_LIMIT);
    expect(fitted.labels).toEqual(alert.labels);
    expect(fitted.annotations.summary).toBe("loss is NaN");
    expect(fitted.annotations.description).toMatch(/^x+ …\[cut by tocsin from 400000 bytes\]$/);
    expect(cuts).toEqual([
      {
        field: "annotations.description",
        bytes: 400_000,
        keptBytes: utf8Length(fitted.annotations.description!),
      },
    ]);
    expect(describeCuts(cuts)).toContain("annotations.description cut from 400000 to");
    // The sender's identity of the alert does not change.
    expect(fitted.fingerprint).toBe(alert.fingerprint);
  });

  it("never splits a character at the cut", () => {
    const fire = "🔥".repeat(100_000);
    const { alert: fitted } = fitAlert(alertWith({ annotations: labelSet([["logs", fire]]) }));
    const kept = fitted.annotations.logs!.replace(/ …\[cut by tocsin.*$/, "");
    expect(kept.length % 2).toBe(0);
    expect(kept).toBe("🔥".repeat(kept.length / 2));
    expect(utf8Prefix("a🔥b", 4)).toBe("a");
    expect(utf8Prefix("a🔥b", 5)).toBe("a🔥");
  });

  it("drops a link that does not fit rather than cut it", () => {
    const long = `http://prometheus.example/graph?g0.expr=${"a".repeat(8_000)}`;
    const { alert: fitted, cuts } = fitAlert(
      alertWith({
        generatorUrl: long,
        dashboardUrl: long,
        silenceUrl: long,
        imageUrl: long,
        annotations: labelSet([["description", "d".repeat(30_000)]]),
      }),
    );
    expect(contentBytes(fitted)).toBeLessThanOrEqual(ALERT_CONTENT_LIMIT);
    expect(cuts.map((cut) => cut.field).sort()).toEqual(
      ["annotations.description", "dashboardUrl", "generatorUrl", "imageUrl", "silenceUrl"].sort(),
    );
    expect(cuts.filter((cut) => cut.field.endsWith("Url")).map((cut) => cut.keptBytes)).toEqual([
      0, 0, 0, 0,
    ]);
    expect([fitted.generatorUrl, fitted.dashboardUrl, fitted.silenceUrl, fitted.imageUrl]).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });

  it("refuses names that alone do not fit, naming the alert's field", () => {
    const names = Array.from({ length: 200 }, (_, i) => [`label_${i}_${"n".repeat(40)}`, "v"]);
    const alert = alertWith({ labels: labelSet(names as Array<[string, string]>) });
    expect(() => fitAlert(alert, "alerts.3")).toThrow(InvalidInputError);
    expect(() => fitAlert(alert, "alerts.3")).toThrow(
      expect.objectContaining({ field: "alerts.3.labels" }),
    );
    expect(NAMES_LIMIT).toBeLessThan(ALERT_CONTENT_LIMIT);
  });

  it("always fits, keeps values under the cap whole, and keeps every name", () => {
    const text = fc.string({ unit: "grapheme", maxLength: 6_000 });
    const set = fc.dictionary(fc.string({ minLength: 1, maxLength: 30 }), text, {
      maxKeys: 30,
    });
    fc.assert(
      fc.property(set, set, fc.option(text), (labels, annotations, valueText) => {
        const alert = alertWith({
          labels: labelSet(Object.entries(labels)),
          annotations: labelSet(Object.entries(annotations)),
          valueText,
        });
        const { alert: fitted, cuts } = fitAlert(alert);
        expect(contentBytes(fitted)).toBeLessThanOrEqual(ALERT_CONTENT_LIMIT);
        expect(Object.keys(fitted.labels)).toEqual(Object.keys(alert.labels));
        expect(Object.keys(fitted.annotations)).toEqual(Object.keys(alert.annotations));
        const cutFields = new Set(cuts.map((cut) => cut.field));
        for (const [name, value] of Object.entries(alert.annotations)) {
          if (!cutFields.has(`annotations.${name}`)) expect(fitted.annotations[name]).toBe(value);
        }
        if (contentBytes(alert) <= ALERT_CONTENT_LIMIT) expect(cuts).toEqual([]);
      }),
      { seed: 11, numRuns: 200 },
    );
  });
});

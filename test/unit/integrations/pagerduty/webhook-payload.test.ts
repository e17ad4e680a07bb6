import { describe, expect, it } from "vitest";
import {
  freshWebhook,
  parsePagerDutyWebhook,
  WEBHOOK_MAX_AGE_SECONDS,
} from "../../../../functions/integrations/pagerduty/webhook-payload.js";
import { fixture } from "../../../support/fixtures.js";

/** PagerDuty's own example payload (webhooks/01-Overview), an incident.priority_updated. */
const documented = () =>
  fixture("pagerduty-v3-incident-priority-updated.json") as {
    event: Record<string, unknown> & { data: Record<string, unknown> };
  };

/** The documented payload as an incident.acknowledged (the same incident data). */
const acknowledged = () => {
  const body = documented();
  body.event.event_type = "incident.acknowledged";
  return body;
};

describe("parsePagerDutyWebhook", () => {
  it("reads an incident.acknowledged: event id, time, agent and the incident", () => {
    expect(parsePagerDutyWebhook(acknowledged())).toEqual({
      ok: true,
      event: {
        kind: "acknowledge",
        eventId: "5ac64822-4adc-4fda-ade0-410becf0de4f",
        occurredAt: "2020-10-02T18:45:22.169Z",
        agent: { id: "PLH1HKV", summary: "Tenex Engineer" },
        incident: {
          id: "PGR0VU2",
          incidentKey: "d3640fbd41094207a1c11e58e46b1662",
          htmlUrl: "https://acme.pagerduty.com/incidents/PGR0VU2",
        },
      },
    });
  });

  it("reads incident.resolved as resolve, and an agent of null (automation)", () => {
    const body = acknowledged();
    body.event.event_type = "incident.resolved";
    body.event.agent = null;
    const parsed = parsePagerDutyWebhook(body);
    expect(parsed.ok && parsed.event).toMatchObject({ kind: "resolve", agent: null });
  });

  it("reads an incident.resolved that is a merge as an acknowledge naming the incident merged into", () => {
    const body = acknowledged();
    body.event.event_type = "incident.resolved";
    body.event.data.resolve_reason = {
      type: "merge_resolve_reason",
      incident: { id: "PTARGET", type: "incident_reference", html_url: null },
    };
    const parsed = parsePagerDutyWebhook(body);
    expect(parsed.ok && parsed.event).toMatchObject({ kind: "acknowledge", mergedInto: "PTARGET" });
    body.event.data.resolve_reason = { type: "some_future_reason" };
    const other = parsePagerDutyWebhook(body);
    expect(other.ok && other.event).toMatchObject({ kind: "resolve" });
    expect(other.ok && "mergedInto" in other.event).toBe(false);
  });

  it("ignores every other event type, such as the documented priority_updated", () => {
    expect(parsePagerDutyWebhook(documented())).toEqual({
      ok: true,
      event: {
        kind: "ignored",
        eventId: "5ac64822-4adc-4fda-ade0-410becf0de4f",
        occurredAt: "2020-10-02T18:45:22.169Z",
        type: "incident.priority_updated",
      },
    });
  });

  it.each([
    ["no event", {}, /^event: /],
    ["no event id", { event: { ...acknowledged().event, id: "" } }, /^event\.id: /],
    [
      "a bad time",
      { event: { ...acknowledged().event, occurred_at: "yesterday" } },
      /^event\.occurred_at: /,
    ],
    [
      "data not an incident",
      { event: { ...acknowledged().event, data: { id: "X", type: "incident_note" } } },
      /^event\.data\.type: /,
    ],
    ["data missing", { event: { ...acknowledged().event, data: undefined } }, /^event\.data: /],
    [
      "an agent without id",
      { event: { ...acknowledged().event, agent: { summary: "x" } } },
      /^event\.agent\.id: /,
    ],
    ["an array", [], /^\(top level\): /],
    ["__proto__ as a key", JSON.parse('{"__proto__":{"event":1}}'), /^event: /],
  ])("refuses %s, naming the field", (_name, body, message) => {
    const parsed = parsePagerDutyWebhook(body);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toMatch(message);
  });
});

describe("freshWebhook: PagerDuty retries for 48 h and signs occurred_at, not a timestamp", () => {
  const at = new Date("2026-12-02T05:00:00.000Z");
  const ago = (seconds: number) => new Date(at.getTime() - seconds * 1000).toISOString();

  it("takes a delivery retried up to 48 h 5 min after the event", () => {
    expect(freshWebhook(ago(0), at)).toBe(true);
    expect(freshWebhook(ago(48 * 3600), at)).toBe(true);
    expect(freshWebhook(ago(WEBHOOK_MAX_AGE_SECONDS), at)).toBe(true);
  });

  it("refuses older ones, and events more than 5 min in the future", () => {
    expect(freshWebhook(ago(WEBHOOK_MAX_AGE_SECONDS + 1), at)).toBe(false);
    expect(freshWebhook(ago(-300), at)).toBe(true);
    expect(freshWebhook(ago(-301), at)).toBe(false);
  });
});

import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { PrometheusRegistry } from "../../../functions/adapters/metrics/prometheus-registry.js";
import { scaledAfter } from "../../../functions/core/clock.js";
import type { DeliveryOutcome, Notifier } from "../../../functions/core/notification.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { runEscalationStep } from "../../../functions/escalation/step.js";
import { candidate } from "../../support/incidents.js";
import { fired } from "../../support/lifecycle.js";

/** Level 1 of ml-training at 09:00 UTC is Dmitri (New York's handoff is at 10:00 local). */
const DMITRI = "dmitri: { name: Dmitri Volkov, email: dmitri@example.com, slack: U0DMITRI1 }";
const shipped = readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8");
const T0 = "2026-11-30T09:00:00.000Z";
const silent = new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" });

const answering = (kind: Notifier["kind"], outcome: DeliveryOutcome): Notifier => ({
  kind,
  send: async () => outcome,
});

async function firstStep(dmitri: string, notifiers: Partial<Record<Notifier["kind"], Notifier>>) {
  const config = parseConfig(shipped.replace(DMITRI, dmitri));
  const store = new MemoryIncidentStore();
  const telemetry = new PrometheusRegistry();
  const incident = candidate("fp-unreachable", T0);
  await fired(store, incident);
  await runEscalationStep(
    {
      store,
      config,
      runbooks: [],
      notifiers,
      logger: silent,
      telemetry,
      clock: {
        now: () => new Date(T0),
        after: scaledAfter(1),
        sleep: async () => undefined,
        random: () => 0,
      },
    },
    { incidentId: incident.id, step: 0, dueAt: T0 },
    () => new Date(T0),
  );
  const stored = (await store.get(incident.id))!;
  const listed = await store.listUnreachable({
    since: "2026-11-01T00:00:00.000Z",
    until: "2026-12-01T00:00:00.000Z",
    limit: 10,
  });
  const counted = telemetry
    .render()
    .split("\n")
    .filter((line) => line.startsWith("tocsin_people_unreachable_total{"));
  return { stored, listed, counted, id: incident.id };
}

const delivered: DeliveryOutcome = { status: "delivered", detail: "accepted" };

describe("a person a level cannot reach is recorded, reported and counted", () => {
  it("no contact data: unreachable as the level fires, the others paged all the same", async () => {
    const { stored, listed, counted, id } = await firstStep("dmitri: { name: Dmitri Volkov }", {
      pagerduty: answering("pagerduty", delivered),
      slack: answering("slack", delivered),
    });
    expect(stored.timeline.filter((e) => e.type === "unreachable")).toEqual([
      {
        at: T0,
        type: "unreachable",
        level: 1,
        person: "dmitri",
        target: "Dmitri Volkov",
        detail:
          "no usable contact method: rules name slack, sms, email, voice; no Slack member id, no phone, no email",
      },
    ]);
    expect(
      stored.timeline.some((e) => e.channel === "pagerduty" && e.outcome === "delivered"),
    ).toBe(true);
    expect(listed).toEqual([
      {
        at: T0,
        incidentId: id,
        team: "ml-training",
        level: 1,
        userId: "dmitri",
        reason:
          "no usable contact method: rules name slack, sms, email, voice; no Slack member id, no phone, no email",
      },
    ]);
    expect(counted).toEqual(['tocsin_people_unreachable_total{level="1",team="ml-training"} 1']);
  });

  it("every method tried and none delivered: unreachable once its last delivery ended", async () => {
    const { stored, listed, counted } = await firstStep(
      "dmitri: { name: Dmitri Volkov, slack: U0DMITRI1, email: dmitri@example.com }",
      {
        pagerduty: answering("pagerduty", delivered),
        slack: answering("slack", delivered),
        slack_dm: answering("slack_dm", {
          status: "failed",
          retryable: false,
          detail: "Slack refused: user_not_found",
        }),
        // No email notifier here: not delivered.
      },
    );
    const events = stored.timeline.filter((e) => e.person === "dmitri");
    expect(events.map((e) => [e.type, e.method ?? null, e.outcome ?? null])).toEqual([
      ["notification_failed", "slack", "failed"],
      ["notified", "email", "not_delivered"],
      ["unreachable", null, null],
    ]);
    expect(events.at(-1)!.detail).toBe(
      "no contact method reached them: slack failed, email not delivered",
    );
    expect(listed.map((e) => [e.userId, e.level])).toEqual([["dmitri", 1]]);
    expect(counted).toEqual(['tocsin_people_unreachable_total{level="1",team="ml-training"} 1']);
  });

  it("reached by one method: not unreachable, nothing reported", async () => {
    const { stored, listed, counted } = await firstStep(
      "dmitri: { name: Dmitri Volkov, slack: U0DMITRI1, email: dmitri@example.com }",
      {
        pagerduty: answering("pagerduty", delivered),
        slack: answering("slack", delivered),
        slack_dm: answering("slack_dm", delivered),
      },
    );
    expect(stored.timeline.some((e) => e.type === "unreachable")).toBe(false);
    expect(listed).toEqual([]);
    expect(counted).toEqual([]);
  });
});

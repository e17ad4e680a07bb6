import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { beforeAll, describe, expect, it } from "vitest";
import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { scaledAfter } from "../../../functions/core/clock.js";
import type { DeliveryOutcome, Notifier } from "../../../functions/core/notification.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { type EscalationDeps, runEscalationStep } from "../../../functions/escalation/step.js";
import { candidate } from "../../support/incidents.js";
import { fired } from "../../support/lifecycle.js";

const config = parseConfig(readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"));
const silent = new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" });
const T0 = Date.parse("2026-11-30T09:00:00.000Z");
const MINUTE = 60_000;

let store: MemoryIncidentStore;
beforeAll(async () => {
  store = new MemoryIncidentStore();
});

/**
 * Runs an incident's escalation as the state machine would, on a test clock: each run at
 * the time the previous one asked for, with the dueAt it gave; the Task's own waits move
 * the clock too. Answers the number of runs.
 */
async function escalate(id: string, pagerDuty: Notifier, maxRuns = 500) {
  let clock = T0;
  const deps: EscalationDeps = {
    store,
    config,
    runbooks: [],
    notifiers: { pagerduty: pagerDuty },
    logger: silent,
    clock: {
      now: () => new Date(clock),
      after: scaledAfter(1),
      sleep: async (ms) => {
        clock += ms;
      },
      random: () => 0,
    },
  };
  let input = { incidentId: id, step: 0, dueAt: new Date(T0).toISOString() };
  for (let runs = 1; runs <= maxRuns; runs++) {
    clock = Math.max(clock, Date.parse(input.dueAt));
    const output = await runEscalationStep(deps, input, () => new Date(clock));
    if (output.done) return runs;
    input = { incidentId: id, step: output.step, dueAt: output.dueAt };
  }
  throw new Error(`still escalating after ${maxRuns} runs`);
}

function scripted(answer: (call: number, level: number) => DeliveryOutcome) {
  const calls: number[] = [];
  const notifier: Notifier = {
    kind: "pagerduty",
    send: async (notification) => {
      calls.push(notification.level);
      return answer(calls.length, notification.level);
    },
  };
  return { notifier, calls };
}

const unavailable: DeliveryOutcome = {
  status: "failed",
  retryable: true,
  detail: "PagerDuty answered 503",
};

describe("a page that keeps failing, tried again in later steps", () => {
  it("is tried with growing gaps while the incident is open, given up 4 h after its level, and then the escalation ends", async () => {
    const opened = candidate("fp-give-up", new Date(T0).toISOString(), { channels: [] });
    await fired(store, opened);
    const pagerDuty = scripted(() => unavailable);

    const runs = await escalate(opened.id, pagerDuty.notifier);

    const final = (await store.get(opened.id))!;
    expect(final.owedDeliveries).toBeUndefined();
    // A PagerDuty service is alerted once, by the first level: later levels send it nothing.
    expect(new Set(pagerDuty.calls)).toEqual(new Set([1]));
    for (const level of [1]) {
      const events = final.timeline.filter((e) => e.level === level && e.channel === "pagerduty");
      expect(events.every((e) => e.type === "notification_failed")).toBe(true);
      // Every attempt is on the timeline.
      expect(events.reduce((sum, e) => sum + e.attempts!, 0)).toBe(
        pagerDuty.calls.filter((l) => l === level).length,
      );
      const gaps = events.slice(0, -1).map((e) => Date.parse(e.nextAttemptAt!) - Date.parse(e.at));
      expect(gaps[0]).toBe(30_000);
      // Each gap at least the one before, but the last, which ends at the give-up time.
      for (let g = 1; g < gaps.length - 1; g++)
        expect(gaps[g]).toBeGreaterThanOrEqual(gaps[g - 1]!);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(10 * MINUTE);
      const claimed = T0 + [0, 15, 30, 60][level - 1]! * MINUTE;
      const last = events.at(-1)!;
      expect(last.nextAttemptAt).toBeUndefined();
      expect(last.detail).toMatch(/given up: no more attempts$/);
      expect(Date.parse(last.at) - claimed).toBeGreaterThanOrEqual(4 * 60 * MINUTE);
      expect(Date.parse(last.at) - claimed).toBeLessThan(4 * 60 * MINUTE + MINUTE);
    }
    // About 30 rounds for the page, besides the levels' own runs.
    expect(runs).toBeLessThan(40 + 4);
  });

  it("is delivered at the attempt after PagerDuty recovers, and the levels keep their times", async () => {
    const opened = candidate("fp-recovers", new Date(T0).toISOString(), { channels: [] });
    await fired(store, opened);
    // Level 1's page is refused five times (429, Retry-After 20 s); the rest go through.
    let refused = 0;
    const pagerDuty = scripted((_, level) =>
      level === 1 && refused++ < 5
        ? { ...unavailable, retryAfterMs: 20_000, detail: "PagerDuty answered 429" }
        : { status: "delivered", detail: "PagerDuty accepted trigger" },
    );

    await escalate(opened.id, pagerDuty.notifier);

    const final = (await store.get(opened.id))!;
    const level1 = final.timeline.filter((e) => e.level === 1 && e.channel === "pagerduty");
    // A Retry-After of 20 s is longer than a Task waits: one attempt per round, 30 s, 30 s,
    // 60 s, 120 s, 240 s apart.
    expect(level1.map((e) => [e.outcome, e.attempts, e.retryAfter ?? null])).toEqual([
      ...Array.from({ length: 5 }, () => ["failed", 1, 20]),
      ["delivered", 1, null],
    ]);
    const escalated = final.timeline.filter((e) => e.type === "escalated");
    expect(escalated.map((e) => [e.level, e.at])).toEqual([
      [2, new Date(T0 + 15 * MINUTE).toISOString()],
      [3, new Date(T0 + 30 * MINUTE).toISOString()],
      [4, new Date(T0 + 60 * MINUTE).toISOString()],
    ]);
    const waits = level1.slice(0, -1).map((e) => Date.parse(e.nextAttemptAt!) - Date.parse(e.at));
    expect(waits).toEqual([30_000, 30_000, 60_000, 120_000, 240_000]);
    expect(final.owedDeliveries).toBeUndefined();
  });
});

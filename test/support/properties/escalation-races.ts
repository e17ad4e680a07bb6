import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scaledAfter } from "../../../functions/core/clock.js";
import type { IncidentStatus } from "../../../functions/core/incident.js";
import type { IncidentStore } from "../../../functions/core/incident-store.js";
import { decide } from "../../../functions/core/lifecycle.js";
import type { Notification, Notifier } from "../../../functions/core/notification.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import {
  type EscalationDeps,
  mirrorStateChange,
  runEscalationStep,
} from "../../../functions/escalation/step.js";
import { candidate } from "../incidents.js";
import { command, contextAt, fired } from "../lifecycle.js";

/**
 * An escalation's steps, an acknowledge and a resolve (each with its mirror), with when
 * each step falls due, each click and each notification's completion ordered by fast-check,
 * against a real store: whatever the order, each channel ends in the incident's state, and nothing is
 * paged that a claim did not win before the incident stopped being triggered.
 */

const T0 = Date.parse("2026-11-30T09:00:00.000Z");
const silent = new Logger({ serviceName: "tocsin-property", logLevel: "SILENT" });
const config = parseConfig(readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"));

let runs = 0;

/** What a channel heard, in the order the requests completed (as the channel processed them). */
interface Heard {
  channelId: string;
  kind: Notification["kind"];
  level: number;
  /** The incident state the notification shows (a Slack message is rendered from it). */
  shows: IncidentStatus;
}

/** PagerDuty's documented alert states: a trigger opens an alert unless one is open; acknowledge and resolve change an open one only. */
function pagerDutyState(heard: readonly Heard[]): IncidentStatus | undefined {
  let state: IncidentStatus | undefined;
  for (const event of heard.filter((h) => h.channelId === "pagerduty")) {
    const open = state === "triggered" || state === "acknowledged";
    if (event.kind === "trigger" || event.kind === "escalate") {
      if (!open) state = "triggered";
    } else if (open) state = event.kind === "acknowledge" ? "acknowledged" : "resolved";
  }
  return state;
}

const shown = (notification: Notification): IncidentStatus =>
  notification.kind === "acknowledge"
    ? "acknowledged"
    : notification.kind === "resolve"
      ? "resolved"
      : notification.incident.status;

type Plan = { acknowledge: boolean; resolve: boolean; steps: number; choices: number[] };

/**
 * Everything the flows wait on that the test orders: a step falling due, a click, a request
 * completing. Between two of them the flows run until each waits again (the store's requests
 * settled); then the next choice picks which gate opens.
 */
class Gates {
  private readonly pending: Array<{ label: string; open: () => void }> = [];
  inFlight = 0;

  gate(label: string): Promise<void> {
    return new Promise((open) => this.pending.push({ label, open }));
  }

  /** Counts a store request in flight, so the driver waits until the flows are all blocked. */
  async track<T>(request: Promise<T>): Promise<T> {
    this.inFlight += 1;
    try {
      return await request;
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Opens gates by `choices` until `flows` settle. */
  async drive(choices: readonly number[], flows: Promise<unknown>): Promise<string[]> {
    let settled = false;
    const done = flows.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    const order: string[] = [];
    for (let i = 0; ; i++) {
      await this.quiet();
      if (settled) break;
      if (this.pending.length === 0) throw new Error(`stuck after ${order.join(" → ")}`);
      const [next] = this.pending.splice(choices[i % choices.length]! % this.pending.length, 1);
      order.push(next!.label);
      next!.open();
    }
    await done;
    await flows;
    return order;
  }

  /** Until no store request has been in flight for a few turns of the event loop. */
  private async quiet() {
    for (let idle = 0; idle < 3; ) {
      await new Promise((resolve) => setImmediate(resolve));
      idle = this.inFlight === 0 ? idle + 1 : 0;
    }
  }
}

async function play(plan: Plan, makeStore: () => IncidentStore) {
  const gates = new Gates();
  const claimed: number[] = [];
  // The store, with each request the flows make counted in flight.
  const store = makeStore();
  const { apply, get } = { apply: store.apply.bind(store), get: store.get.bind(store) };
  Object.assign(store, {
    /** Claims (and every other guarded change) go through apply. */
    async apply(...args: Parameters<IncidentStore["apply"]>) {
      const [, update] = args;
      const outcome = await gates.track(apply(...args));
      if (outcome.applied && update.claimStep !== undefined)
        claimed.push(...(update.owe ?? []).map((o) => o.level));
      return outcome;
    },
    get: (...args: Parameters<IncidentStore["get"]>) => gates.track(get(...args)),
  });
  const opened = candidate(`fp-races-${++runs}`, new Date(T0).toISOString());
  await fired(store, opened);
  const id = opened.id;
  const heard: Heard[] = [];
  const sent: Heard[] = [];
  // Every request completes when its gate opens: that is when the channel processes it.
  const notifier = (kind: Notifier["kind"]): Notifier => ({
    kind,
    send: async (notification) => {
      const entry = {
        channelId: notification.channelId,
        kind: notification.kind,
        level: notification.level,
        shows: shown(notification),
      };
      sent.push(entry);
      await gates.gate(`${notification.kind} ${notification.channelId} L${notification.level}`);
      heard.push(entry);
      const posted = kind === "slack" && !notification.slackMessage;
      return {
        status: "delivered",
        detail: "ok",
        ...(posted ? { slackMessage: { channel: "C0INCIDENT", ts: "1764493801.000100" } } : {}),
      };
    },
  });
  let clock = T0;
  const now = () => new Date(++clock);
  const deps: EscalationDeps = {
    store,
    config,
    runbooks: [],
    notifiers: {
      pagerduty: notifier("pagerduty"),
      slack: notifier("slack"),
      email: notifier("email"),
    },
    logger: silent,
    clock: { now, after: scaledAfter(1), sleep: async () => undefined, random: () => 0 },
  };
  // The engine stops the execution between Tasks; a Task under way runs to its end.
  let stopped = false;
  const escalation = async () => {
    let step = 0;
    let dueAt = new Date(T0).toISOString();
    for (let run = 0; run < plan.steps && !stopped; run++) {
      await gates.gate(`step ${step} due`);
      if (stopped) return;
      const output = await runEscalationStep(deps, { incidentId: id, step, dueAt }, now);
      if (output.done) return;
      ({ step, dueAt } = output);
    }
  };
  const act = async (type: "acknowledge" | "resolve") => {
    await gates.gate(`click ${type}`);
    // As a click is taken: read → decide → apply; refused by the state, or by the store's
    // guard when the other click won meanwhile.
    const current = (await store.get(id))!;
    const decision = decide(current, command(type, "dmitri"), contextAt(now().toISOString()));
    if (decision.outcome !== "change" || decision.change.kind !== "update") return;
    if (!(await store.apply(id, decision.change.update, current)).applied) return;
    stopped = true;
    await mirrorStateChange(deps, { incidentId: id, kind: type }, now);
  };
  const order = await gates.drive(
    plan.choices,
    Promise.all([
      escalation(),
      ...(plan.acknowledge ? [act("acknowledge")] : []),
      ...(plan.resolve ? [act("resolve")] : []),
    ]),
  );
  return { final: (await store.get(id))!, heard, sent, claimed, order };
}

/** The property over stores from `makeStore` (one per run; they may share a table), `runs` runs. */
export function escalationRacesProperty(
  name: string,
  makeStore: () => IncidentStore,
  runs: number,
) {
  describe(`escalation steps, acknowledge and resolve, their notifications completing in any order (fast-check, ${name})`, () => {
    it(`every channel ends in the incident's state; only claimed levels are paged (${runs} runs)`, async () => {
      const seen = new Set<string>();
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            acknowledge: fc.boolean(),
            resolve: fc.boolean(),
            steps: fc.integer({ min: 1, max: 3 }),
            choices: fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 40 }),
          }),
          async (plan) => {
            const { final, heard, sent, claimed } = await play(plan, makeStore);

            // PagerDuty ends in the incident's state, if it heard of it at all.
            const pagerDuty = pagerDutyState(heard);
            if (pagerDuty !== undefined) expect(pagerDuty).toBe(final.status);
            // The Slack message shows the incident's state.
            const slack = heard.filter((h) => h.channelId === "slack-incidents");
            if (slack.length > 0) expect(slack.at(-1)!.shows).toBe(final.status);
            // Pages: each one a claimed level's, once per channel and level.
            const pages = sent.filter((h) => h.kind === "trigger" || h.kind === "escalate");
            for (const page of pages) expect(claimed).toContain(page.level);
            const keys = pages.map((p) => `${p.channelId}:${p.level}`);
            expect(new Set(keys).size).toBe(keys.length);
            // Nothing left owed once everything has settled.
            expect(final.owedDeliveries).toBeUndefined();

            seen.add(final.status);
            const stateChange = heard.findIndex(
              (h) => h.kind === "acknowledge" || h.kind === "resolve",
            );
            if (
              stateChange >= 0 &&
              heard.slice(stateChange).some((h) => h.kind === "trigger" || h.kind === "escalate")
            )
              seen.add("a page completed after a state change");
            if (
              heard.filter(
                (h) => h.channelId === "pagerduty" && h.kind !== "trigger" && h.kind !== "escalate",
              ).length > 1
            )
              seen.add("PagerDuty told a state twice");
          },
        ),
        { numRuns: runs },
      );
      expect([...seen]).toEqual(
        expect.arrayContaining([
          "triggered",
          "acknowledged",
          "resolved",
          "a page completed after a state change",
          "PagerDuty told a state twice",
        ]),
      );
    }, 120_000);
  });
}

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { ingestAlerts } from "../../../functions/app/ingest-alerts.js";
import type { EscalationRunner } from "../../../functions/core/escalation-runner.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { alert, at } from "../../support/incidents.js";

/**
 * Alerts by fingerprint through the lifecycle, on the memory store: what follows an opening
 * (the escalation's start) is carried out before the opening is confirmed, so a start that
 * failed is made by the sender's retry; a resolve stops and mirrors.
 */

const config = parseConfig(readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"));

type Call = [string, ...unknown[]];

function engine(failStarts = 0) {
  const calls: Call[] = [];
  let failing = failStarts;
  const runner: EscalationRunner = {
    start: async (id) => {
      calls.push(["start", id]);
      if (failing-- > 0) throw new Error("Step Functions unreachable");
    },
    stop: async (id, runs) => void calls.push(["stop", id, runs]),
    mirror: async (id, kind) => void calls.push(["mirror", id, kind]),
    resume: async (id, step, wait, run) => void calls.push(["resume", id, step, wait, run]),
  };
  return { runner, calls };
}

function deps(store: MemoryIncidentStore, runner?: EscalationRunner) {
  let ids = 0;
  return {
    store,
    config,
    newId: () => `inc-${++ids}`,
    ...(runner ? { escalation: runner } : {}),
  };
}

describe("ingestAlerts through the lifecycle", () => {
  it("starts the escalation before confirming the opening: a failed start is made by the retry, once", async () => {
    // Prepare
    const store = new MemoryIncidentStore();
    const { runner, calls } = engine(1);
    const firing = alert("fp-start");
    // Act: the first delivery's start fails (the sender is answered 503), the retry's works.
    await expect(ingestAlerts(deps(store, runner), [firing], at(0))).rejects.toThrow(
      "Step Functions unreachable",
    );
    const retry = await ingestAlerts(deps(store, runner), [firing], at(1));
    const third = await ingestAlerts(deps(store, runner), [firing], at(2));
    // Assess: one incident, started twice under its one name (the engine runs a name once),
    // and once confirmed a duplicate starts nothing.
    const id = retry.incidents[0]!.id;
    expect(third.incidents[0]).toEqual({ id, status: "triggered", deduplicated: true });
    expect(calls).toEqual([
      ["start", id],
      ["start", id],
    ]);
    expect((await store.get(id))!.occurrences).toBe(3);
  });

  it("starts nothing for an incident that tells nobody, and confirms it all the same", async () => {
    const store = new MemoryIncidentStore();
    const { runner, calls } = engine();
    const info = alert("fp-info", {
      labels: { alertname: "Info", severity: "info", team: "ml-training" },
    });
    const first = await ingestAlerts(deps(store, runner), [info], at(0));
    const again = await ingestAlerts(deps(store, runner), [info], at(1));
    expect(first.opened).toEqual([first.incidents[0]!.id]);
    expect(again.incidents[0]).toMatchObject({ id: first.incidents[0]!.id, deduplicated: true });
    expect(calls).toEqual([]);
  });

  it("a resolve stops the escalation and mirrors it, owing the state to the channels meanwhile", async () => {
    const store = new MemoryIncidentStore();
    const { runner, calls } = engine();
    const firing = alert("fp-resolve");
    const opened = await ingestAlerts(deps(store, runner), [firing], at(0));
    const id = opened.incidents[0]!.id;
    const resolved = { ...firing, status: "resolved" as const, endsAt: at(4) };
    const result = await ingestAlerts(deps(store, runner), [resolved], at(5));
    expect(result.incidents).toEqual([{ id, status: "resolved", deduplicated: true }]);
    expect(calls).toEqual([
      ["start", id],
      ["stop", id, 0],
      ["mirror", id, "resolve"],
    ]);
    const stored = await store.get(id);
    expect(stored).toMatchObject({
      status: "resolved",
      resolvedBy: "alertmanager",
      owedState: "resolved",
    });
    expect(stored!.timeline.at(-1)).toEqual({
      at: at(5),
      type: "resolved",
      actor: "alertmanager",
      via: "alertmanager",
      detail: `the alert resolved at ${at(4)}`,
    });
  });

  it("without an escalation engine, records the resolve and owes nobody its state", async () => {
    const store = new MemoryIncidentStore();
    const firing = alert("fp-quiet");
    const opened = await ingestAlerts(deps(store), [firing], at(0));
    await ingestAlerts(deps(store), [{ ...firing, status: "resolved", endsAt: at(1) }], at(2));
    const stored = await store.get(opened.incidents[0]!.id);
    expect(stored!.status).toBe("resolved");
    expect(stored!.owedState).toBeUndefined();
  });

  it("a resolve cut short between its two writes is finished when the alert fires again: one open incident per fingerprint", async () => {
    // Prepare: the resolve's second write (the incident) fails every time, the sender gives up.
    let failUpdates = false;
    const store = new MemoryIncidentStore({
      beforeRequest: (kind) => {
        if (failUpdates && kind === "update") throw new Error("connection reset");
      },
    });
    const { runner, calls } = engine();
    const firing = alert("fp-torn");
    const old = (await ingestAlerts(deps(store, runner), [firing], at(0))).incidents[0]!.id;
    failUpdates = true;
    const resolved = { ...firing, status: "resolved" as const, endsAt: at(4) };
    await expect(ingestAlerts(deps(store, runner), [resolved], at(5))).rejects.toThrow();
    failUpdates = false;
    expect((await store.get(old))!.status).toBe("triggered");
    // Act: a new episode of the fingerprint (a later startsAt) opens a new incident.
    const refired = { ...firing, startsAt: at(30) };
    const ids = { n: 0 };
    const fresh = await ingestAlerts(
      { ...deps(store, runner), newId: () => `inc-new-${++ids.n}` },
      [refired],
      at(31),
    );
    // Assess: the old one is resolved (its escalation stopped, the channels told), the new one open.
    const now = fresh.incidents[0]!.id;
    expect(fresh.opened).toEqual([now]);
    expect(await store.get(old)).toMatchObject({ status: "resolved", owedState: "resolved" });
    expect((await store.get(old))!.timeline.at(-1)).toEqual({
      at: at(31),
      type: "resolved",
      actor: "alertmanager",
      via: "alertmanager",
      detail: `its alert had resolved, but the resolve was cut short before this incident was; finished when the alert fired again (${now})`,
    });
    expect((await store.get(now))!.status).toBe("triggered");
    expect(calls).toEqual([
      ["start", old],
      ["stop", old, 0],
      ["mirror", old, "resolve"],
      ["start", now],
    ]);
  });

  it("a new episode after a resolve that finished changes nothing on the old incident", async () => {
    const store = new MemoryIncidentStore();
    const { runner, calls } = engine();
    const firing = alert("fp-again");
    const old = (await ingestAlerts(deps(store, runner), [firing], at(0))).incidents[0]!.id;
    await ingestAlerts(
      deps(store, runner),
      [{ ...firing, status: "resolved", endsAt: at(4) }],
      at(5),
    );
    const before = await store.get(old);
    const fresh = await ingestAlerts(
      { ...deps(store, runner), newId: () => "inc-second" },
      [{ ...firing, startsAt: at(30) }],
      at(31),
    );
    expect(fresh.opened).toEqual(["inc-second"]);
    expect(await store.get(old)).toEqual(before);
    expect(calls).toEqual([
      ["start", old],
      ["stop", old, 0],
      ["mirror", old, "resolve"],
      ["start", "inc-second"],
    ]);
  });
});

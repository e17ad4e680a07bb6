import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import {
  LOCAL_START_CONCURRENCY,
  LocalEscalationEngine,
} from "../../../functions/escalation/local-engine.js";
import type { EscalationTaskInput } from "../../../functions/escalation/task-handler.js";

const silent = new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" });

/** A Task handler held until `release`: it ends each escalation after its first step. */
function heldHandler() {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const seen: string[] = [];
  let inFlight = 0;
  let most = 0;
  let arrived: () => void = () => undefined;
  const handler = async (input: EscalationTaskInput) => {
    seen.push(input.incidentId);
    most = Math.max(most, ++inFlight);
    arrived();
    await gate;
    inFlight--;
    return { incidentId: input.incidentId, step: 1, done: true, waitSeconds: 0, dueAt: "" };
  };
  return {
    handler,
    release,
    seen,
    most: () => most,
    /** Resolves once `count` Tasks have begun. */
    begun: (count: number) =>
      new Promise<void>((resolve) => {
        arrived = () => {
          if (seen.length >= count) resolve();
        };
        arrived();
      }),
  };
}

describe("the local escalation engine", () => {
  it("lets a storm's executions into their first Task a few at a time, and runs them all", async () => {
    const held = heldHandler();
    const engine = new LocalEscalationEngine({ handler: held.handler, logger: silent });
    const ids = Array.from({ length: 12 }, (_, i) => `inc-${i}`);
    // Every start returns at once, as StartExecution does: the delivery is not held up.
    await Promise.all(ids.map((id) => engine.start(id, new Date().toISOString())));
    expect(ids.every((id) => engine.isRunning(id))).toBe(true);
    await held.begun(LOCAL_START_CONCURRENCY);
    expect(held.seen).toHaveLength(LOCAL_START_CONCURRENCY);
    held.release();
    await engine.idle();
    expect([...held.seen].sort()).toEqual([...ids].sort());
    expect(held.most()).toBe(LOCAL_START_CONCURRENCY);
  });

  it("never begins an execution stopped while it waited to start", async () => {
    const held = heldHandler();
    const engine = new LocalEscalationEngine({
      handler: held.handler,
      logger: silent,
      maxStarting: 1,
    });
    await engine.start("first", new Date().toISOString());
    await engine.start("second", new Date().toISOString());
    await held.begun(1);
    await engine.stop("second");
    held.release();
    await engine.idle();
    expect(held.seen).toEqual(["first"]);
    // Like Step Functions, a name that ran (or was stopped) is not run again.
    await engine.start("second", new Date().toISOString());
    await engine.idle();
    expect(held.seen).toEqual(["first"]);
  });
});

/** One turn of the event loop: every promise that can settle now has settled. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("what the local engine tells tests to wait on", () => {
  it("tells when an execution ended and how, once the Task it was running has finished", async () => {
    const held = heldHandler();
    const engine = new LocalEscalationEngine({ handler: held.handler, logger: silent });
    // Asked before it starts: told when it ends.
    const first = engine.untilEnded("first");
    await engine.start("first", new Date().toISOString());
    await engine.start("stopped", new Date().toISOString());
    await held.begun(2);
    await engine.stop("stopped");
    // Aborted (no longer running), but its Task is still under way: not ended yet, for
    // that Task may still act.
    while (engine.isRunning("stopped")) await settle();
    let stoppedEnd: unknown;
    void engine.untilEnded("stopped").then((end) => {
      stoppedEnd = end;
    });
    await settle();
    expect(stoppedEnd).toBeUndefined();
    const released = Date.now();
    held.release();
    expect(await first).toEqual({ name: "first", status: "succeeded", at: expect.any(Number) });
    const stopped = await engine.untilEnded("stopped");
    expect(stopped).toMatchObject({ name: "stopped", status: "aborted" });
    expect(stopped.at).toBeLessThanOrEqual(released);
    // Asked after it ended: told at once, the same.
    expect(await engine.untilEnded("first")).toEqual(await first);
    expect(engine.hasStarted("first")).toBe(true);
    expect(engine.hasStarted("never")).toBe(false);
  });

  it("ends an execution stopped before it began as aborted", async () => {
    const held = heldHandler();
    const engine = new LocalEscalationEngine({
      handler: held.handler,
      logger: silent,
      maxStarting: 1,
    });
    await engine.start("first", new Date().toISOString());
    await engine.start("second", new Date().toISOString());
    await held.begun(1);
    await engine.stop("second");
    held.release();
    expect(await engine.untilEnded("second")).toMatchObject({ status: "aborted" });
    expect(held.seen).toEqual(["first"]);
  });

  it("logs each state an execution enters, with its input and time, and waits for one to come", async () => {
    const reported: string[] = [];
    const engine = new LocalEscalationEngine({
      handler: async (input) => ({ ...input, step: 1, done: true, waitSeconds: 0, dueAt: "" }),
      logger: silent,
      onStateEntered: (incidentId, state) => reported.push(`${incidentId} ${state}`),
    });
    const stopped = engine.untilEntered((e) => e.execution === "inc-1" && e.state === "Stopped");
    const before = Date.now();
    await engine.start("inc-1", new Date().toISOString());
    const last = await stopped;
    await engine.untilEnded("inc-1");
    const entered = engine.statesEntered().filter((e) => e.execution === "inc-1");
    expect(entered.map((e) => e.state)).toEqual([
      "Start, resume or mirror?",
      "Escalate",
      "Done?",
      "Stopped",
    ]);
    expect(entered.at(-1)).toBe(last);
    expect(entered[1]).toMatchObject({
      incidentId: "inc-1",
      input: { incidentId: "inc-1", step: 0, dueAt: expect.any(String) },
    });
    expect(Date.parse((entered[1]!.input as { dueAt: string }).dueAt)).toBeLessThanOrEqual(
      entered[1]!.at,
    );
    const times = entered.map((e) => e.at);
    expect(times[0]).toBeGreaterThanOrEqual(before);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // A state already logged is found at once; the callback saw the same states.
    expect(await engine.untilEntered((e) => e.state === "Escalate")).toBe(entered[1]);
    expect(reported).toEqual(entered.map((e) => `inc-1 ${e.state}`));
  });
});

import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import {
  LOCAL_START_CONCURRENCY,
  LocalEscalationEngine,
} from "../../functions/escalation/local-engine.js";
import type { EscalationTaskInput } from "../../functions/escalation/task-handler.js";

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
    await Promise.all(ids.map((id) => engine.start(id)));
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
    await engine.start("first");
    await engine.start("second");
    await held.begun(1);
    await engine.stop("second");
    held.release();
    await engine.idle();
    expect(held.seen).toEqual(["first"]);
    // Like Step Functions, a name that ran (or was stopped) is not run again.
    await engine.start("second");
    await engine.idle();
    expect(held.seen).toEqual(["first"]);
  });
});

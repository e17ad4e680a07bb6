import type { Logger } from "@aws-lambda-powertools/logger";
import type { EscalationRunner } from "../core/escalation-runner.js";
import type { IncidentStore } from "../core/incident-store.js";
import { resumeOwedMirrors } from "./step.js";

/**
 * The sweep that a schedule runs on AWS (every minute; the local server runs the same at
 * start-up): the mirror of every state still owed to its channels is started, so one that
 * was never started (the Slack click's function died after storing the acknowledge, or Step
 * Functions refused the start) runs now. One already running or ended is not started again:
 * its execution name is taken, and it settles what it owed, or says on the timeline that it
 * gave up. Costs one Query per owed state (acknowledged, resolved) when nothing is owed.
 */
export function owedMirrorsHandler(deps: {
  store: IncidentStore;
  runner: EscalationRunner;
  logger: Logger;
}) {
  return async (): Promise<{ owed: number }> => {
    const owed = await resumeOwedMirrors(deps);
    if (owed.length > 0)
      deps.logger.info("owed mirrors asked for", {
        event: "owed_mirrors",
        count: owed.length,
        incidentIds: owed.slice(0, 50),
      });
    return { owed: owed.length };
  };
}

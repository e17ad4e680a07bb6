import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../functions/adapters/clock.js";
import { DynamoIncidentStore } from "../../functions/adapters/dynamodb/incident-store.js";
import { takeIncidentAction } from "../../functions/app/incident-actions.js";
import { ServiceUnavailableError } from "../../functions/core/errors.js";
import type { EscalationRunner } from "../../functions/core/escalation-runner.js";
import { parseConfig } from "../../functions/core/yaml-files.js";
import { LocalEscalationEngine } from "../../functions/escalation/local-engine.js";
import { owedMirrorsHandler } from "../../functions/escalation/owed-mirrors.js";
import { escalationHandler } from "../../functions/escalation/task-handler.js";
import { PagerDutyNotifier } from "../../functions/integrations/pagerduty/notifier.js";
import { describeSlackUser } from "../../functions/integrations/slack/users.js";
import type { EmbeddedDynamo } from "../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../support/dynamo.js";
import { FakePagerDuty } from "../support/fake-pagerduty.js";
import { candidate } from "../support/incidents.js";
import { fired } from "../support/lifecycle.js";
import { ROUTING_KEY } from "../support/local-with-fakes.js";
import { waitUntil } from "../support/poll-until.js";

const config = parseConfig(readFileSync(new URL("../../tocsin.yaml", import.meta.url), "utf8"));
const silent = new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" });
/** On ml-training's rotation in tocsin.yaml: his clicks are accepted. */
const DMITRI = { id: "U0DMITRI1", name: "dmitri" };

let dynamo: EmbeddedDynamo;
let store: DynamoIncidentStore;
let pagerDuty: FakePagerDuty;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const client = clientFor(dynamo.endpoint);
  store = new DynamoIncidentStore(client, await freshTable(client));
  pagerDuty = await FakePagerDuty.start();
});
afterAll(async () => {
  await pagerDuty.close();
  await dynamo.close();
});

describe("the owed-mirrors sweep (AWS's schedule, the local server's start-up)", () => {
  it("tells PagerDuty an acknowledge whose mirror Step Functions refused to start, once", async () => {
    const engine = new LocalEscalationEngine({
      handler: escalationHandler({
        store,
        config,
        runbooks: [],
        notifiers: {
          pagerduty: new PagerDutyNotifier({
            routingKey: ROUTING_KEY,
            server: pagerDuty.server,
            ca: pagerDuty.ca,
          }),
        },
        logger: silent,
        clock: systemClock,
        now: () => new Date(),
      }),
      logger: silent,
    });
    const incident = candidate("fp-owed-sweep", new Date().toISOString(), { channels: [] });
    await fired(store, incident);
    const heard = () =>
      pagerDuty.processed.filter((e) => e.dedup_key === incident.id).map((e) => e.event_action);
    // The click's function, with Step Functions refusing the mirror's start (throttled, down):
    // the acknowledge is stored and the click answered, the mirror never started.
    const refusing: EscalationRunner = {
      start: (...args) => engine.start(...args),
      stop: (id) => engine.stop(id),
      resume: (...args) => engine.resume(...args),
      mirror: async () => {
        throw new ServiceUnavailableError("Step Functions request failed: ThrottlingException");
      },
    };

    try {
      await engine.start(incident.id, new Date().toISOString());
      // Paged and recorded: a click before the Task's record would make the Task itself tell
      // PagerDuty the acknowledge (its outcome finds the incident acknowledged), not the sweep.
      await waitUntil(
        async () =>
          heard().includes("trigger") &&
          (await store.get(incident.id))!.timeline.some((e) => e.type === "notified"),
        "level 1 paged and recorded",
        10_000,
      );
      const clicked = await takeIncidentAction(
        { store, config, escalation: refusing, after: systemClock.after },
        {
          incidentId: incident.id,
          action: { type: "acknowledge" },
          user: DMITRI,
          actor: { display: describeSlackUser(config, DMITRI), via: "slack" },
        },
        new Date(),
      );
      expect(clicked).toMatchObject({ outcome: "done" });
      expect((clicked as { message: string }).message).toContain("they are told once it does");
      expect((await store.get(incident.id))!.owedState).toBe("acknowledged");
      expect(pagerDuty.alertState(incident.id)).toBe("triggered");

      const sweep = owedMirrorsHandler({ store, runner: engine, logger: silent });
      expect(await sweep()).toEqual({ owed: 1 });
      await engine.untilEnded(`${incident.id}-acknowledge`);
      expect(pagerDuty.alertState(incident.id)).toBe("acknowledged");
      expect((await store.get(incident.id))!.owedState).toBeUndefined();
      // Settled: the next sweep has nothing to ask for, and PagerDuty heard it once.
      expect(await sweep()).toEqual({ owed: 0 });
      expect(heard()).toEqual(["trigger", "acknowledge"]);
    } finally {
      await engine.close();
    }
  }, 30_000);
});

import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsClientConfig } from "../../functions/adapters/aws-clients.js";
import { scaledClock } from "../../functions/adapters/clock.js";
import { DynamoIncidentStore } from "../../functions/adapters/dynamodb/incident-store.js";
import type { Notifier } from "../../functions/core/notification.js";
import { parseConfig } from "../../functions/core/yaml-files.js";
import { LocalEscalationEngine } from "../../functions/escalation/local-engine.js";
import { escalationHandler } from "../../functions/escalation/task-handler.js";
import { PagerDutyNotifier } from "../../functions/integrations/pagerduty/notifier.js";
import type { EmbeddedDynamo } from "../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../support/dynamo.js";
import { FakePagerDuty } from "../support/fake-pagerduty.js";
import { DynamoFaultProxy } from "../support/fault-proxy.js";
import { candidate } from "../support/incidents.js";
import { act, command, fired } from "../support/lifecycle.js";
import { ROUTING_KEY } from "../support/local-with-fakes.js";
import { isPagerDutyChannel, pagerDutyPerLevel } from "../support/pagerduty-per-level.js";
import { waitUntil } from "../support/poll-until.js";

const config = parseConfig(readFileSync(new URL("../../tocsin.yaml", import.meta.url), "utf8"));
const silent = new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" });
// 15 minutes become 1.5 s.
const SCALE = 600;

let dynamo: EmbeddedDynamo;
let store: DynamoIncidentStore;
let pagerDuty: FakePagerDuty;
let proxy: DynamoFaultProxy;
/** The same table as `store`, through the fault proxy: DynamoDB as the escalation sees it. */
let proxied: DynamoIncidentStore;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const client = clientFor(dynamo.endpoint);
  const table = await freshTable(client);
  store = new DynamoIncidentStore(client, table);
  pagerDuty = await FakePagerDuty.start();
  proxy = await DynamoFaultProxy.start({ upstream: dynamo.endpoint });
  proxied = new DynamoIncidentStore(
    new DynamoDBClient({
      ...awsClientConfig(),
      endpoint: proxy.endpoint,
      region: "local",
      credentials: { accessKeyId: "t", secretAccessKey: "t" },
    }),
    table,
  );
});
afterAll(async () => {
  await proxy.close();
  await pagerDuty.close();
  await dynamo.close();
});

describe("the state machine retries an Escalate Task whose Lambda died after claiming its level", () => {
  it("sends the claimed level on the retry instead of skipping it as claimed", async () => {
    const real = new PagerDutyNotifier({
      routingKey: ROUTING_KEY,
      server: pagerDuty.server,
      ca: pagerDuty.ca,
    });
    // Level 2's first send never happens: the invocation dies there, as a Lambda out of
    // memory or past its timeout would, and Step Functions' Retry runs the Task again.
    let died = 0;
    const dying: Notifier = {
      kind: "pagerduty",
      send: async (notification) => {
        if (notification.level === 2 && died === 0) {
          died += 1;
          throw new Error("Runtime.ExitError: the function died mid-send");
        }
        return real.send(notification);
      },
    };
    const entered: string[] = [];
    const engine = new LocalEscalationEngine({
      handler: escalationHandler({
        store,
        // A PagerDuty service per level: each level sends a trigger of its own.
        config: pagerDutyPerLevel(),
        runbooks: [],
        notifiers: { pagerduty: dying },
        logger: silent,
        clock: scaledClock(SCALE),
        now: () => new Date(),
      }),
      logger: silent,
      onStateEntered: (_, state) => entered.push(state),
    });
    const incident = candidate("fp-task-retry", new Date().toISOString(), {
      channels: [],
    });
    await fired(store, incident);

    try {
      await engine.start(incident.id, new Date().toISOString());
      const paged = (level: number) =>
        pagerDuty.processed.filter(
          (e) =>
            e.dedup_key === incident.id &&
            (e.payload as { custom_details: { level: number } }).custom_details.level === level,
        );
      await waitUntil(() => paged(2).length === 1, "level 2 paged by the retried Task", 10_000);
      await waitUntil(
        async () =>
          (await store.get(incident.id))!.timeline.some(
            (e) => e.type === "notified" && e.level === 2,
          ),
        "level 2 recorded",
        5_000,
      );

      expect(died).toBe(1);
      const stored = (await store.get(incident.id))!;
      expect(stored.timeline.filter((e) => e.type === "escalated" && e.level === 2)).toHaveLength(
        1,
      );
      expect(
        stored.timeline.filter((e) => e.level === 2 && isPagerDutyChannel(e.channel)),
      ).toMatchObject([{ type: "notified", outcome: "delivered", attempts: 1 }]);
      // Retried within the state, not caught as a failure: the escalation goes on.
      expect(entered).not.toContain("Record failure");
      expect(paged(1)).toHaveLength(1);
    } finally {
      await engine.close();
    }
  }, 30_000);

  it("runs the mirror again when it could not tell PagerDuty the state, until PagerDuty has it", async () => {
    const notifier = new PagerDutyNotifier({
      routingKey: ROUTING_KEY,
      server: pagerDuty.server,
      ca: pagerDuty.ca,
    });
    const entered: string[] = [];
    const engine = new LocalEscalationEngine({
      handler: escalationHandler({
        store,
        config,
        runbooks: [],
        notifiers: { pagerduty: notifier },
        logger: silent,
        clock: scaledClock(SCALE),
        // Two quick attempts per Task, so that the Task gives up while PagerDuty still fails.
        retry: {
          attempts: 2,
          minDelayMs: 5,
          maxDelayMs: 10,
          maxTotalMs: 1_000,
          maxRetryAfterMs: 0,
        },
        now: () => new Date(),
      }),
      logger: silent,
      onStateEntered: (_, state) => entered.push(state),
    });
    const incident = candidate("fp-mirror-retry", new Date().toISOString(), { channels: [] });
    await fired(store, incident);
    const heard = () =>
      pagerDuty.processed.filter((e) => e.dedup_key === incident.id).map((e) => e.event_action);

    try {
      await engine.start(incident.id, new Date().toISOString());
      await waitUntil(() => heard().includes("trigger"), "level 1 paged", 10_000);
      await engine.stop(incident.id);
      await act(store, incident.id, command("resolve", "dmitri"), new Date().toISOString());
      // PagerDuty is unavailable for three requests: more than one Task's two attempts.
      pagerDuty.failNext({ status: 503, times: 3 });
      await engine.mirror(incident.id, "resolve");

      await waitUntil(
        () => heard().includes("resolve"),
        "the resolve, on the Task's retry",
        10_000,
      );
      expect(pagerDuty.alertState(incident.id)).toBe("resolved");
      await engine.idle();
      const mirrored = (await store.get(incident.id))!.timeline.filter((e) =>
        e.detail?.startsWith("resolve:"),
      );
      expect(mirrored.map((e) => [e.outcome, e.attempts])).toEqual([
        ["failed", 2],
        ["delivered", 2],
      ]);
      expect(entered).not.toContain("Record failure");
    } finally {
      await engine.close();
    }
  }, 30_000);

  it("tries a step whose Task keeps failing again, while the incident is triggered, instead of ending the escalation", async () => {
    // Level 2 ten days away (four hours at this scale): each incident pages level 1 alone.
    const standard = config.escalationPolicies.standard!;
    const slow = {
      ...config,
      escalationPolicies: {
        ...config.escalationPolicies,
        slow: {
          ...standard,
          levels: [standard.levels[0]!, { ...standard.levels[1]!, after: 864_000 }],
        },
      },
    };
    const entered: Array<{ id: string; state: string }> = [];
    const engine = new LocalEscalationEngine({
      handler: escalationHandler({
        store: proxied,
        config: slow,
        runbooks: [],
        notifiers: {
          pagerduty: new PagerDutyNotifier({
            routingKey: ROUTING_KEY,
            server: pagerDuty.server,
            ca: pagerDuty.ca,
          }),
        },
        logger: silent,
        clock: scaledClock(SCALE),
        now: () => new Date(),
      }),
      logger: silent,
      onStateEntered: (id, state) => entered.push({ id, state }),
    });
    const opened = async (fingerprint: string) => {
      const incident = candidate(fingerprint, new Date().toISOString(), {
        channels: [],
        escalation: "slow",
      });
      await fired(store, incident);
      return incident.id;
    };
    const paged = (id: string) =>
      pagerDuty.processed.filter((e) => e.dedup_key === id && e.event_action === "trigger");
    const statesOf = (id: string) => entered.filter((e) => e.id === id).map((e) => e.state);
    /** The next state after the failure's record: the wait before trying again, or the end. */
    const afterFailure = (id: string) =>
      Promise.race([
        engine.untilEntered((e) => e.incidentId === id && e.state === "Wait to try again"),
        engine.untilEnded(id),
      ]);

    try {
      // DynamoDB answers every request of the escalation's with its InternalServerError,
      // longer than the Task's Retry covers: the steps fail, then their failures are recorded.
      proxy.setFaults({ rate: 1, kinds: ["internal"] });
      const recovering = await opened("fp-store-down");
      const acknowledged = await opened("fp-store-down-acked");
      await engine.start(recovering, new Date().toISOString());
      await engine.start(acknowledged, new Date().toISOString());
      // Each waits to try again; it used to end there (Record failure, then Fail).
      for (const id of [recovering, acknowledged]) {
        const next = await afterFailure(id);
        expect(statesOf(id)).toContain("Record failure");
        expect(next, statesOf(id).join(" → ")).toMatchObject({ state: "Wait to try again" });
        expect(paged(id)).toEqual([]);
      }
      // One is acknowledged while DynamoDB is still down for the escalation; then DynamoDB
      // is back: the other's step is tried again and pages level 1, the acknowledged one ends.
      await act(store, acknowledged, command("acknowledge", "dmitri"), new Date().toISOString());
      proxy.setFaults(null);
      await waitUntil(
        () => paged(recovering).length === 1,
        "level 1 paged once DynamoDB is back",
        30_000,
      );
      expect(await engine.untilEnded(acknowledged)).toMatchObject({ status: "succeeded" });
      expect(engine.isRunning(recovering)).toBe(true);
      expect(paged(acknowledged)).toEqual([]);
      expect(entered.map((e) => e.state)).not.toContain("Escalation failed");
      // What DynamoDB let it write of the failures: none while it was down.
      for (const id of [recovering, acknowledged]) {
        const failures = (await store.get(id))!.timeline.filter(
          (e) => e.type === "notification_failed",
        );
        for (const failure of failures) expect(failure.detail).toMatch(/trying again at/);
      }
    } finally {
      proxy.setFaults(null);
      await engine.close();
    }
  }, 120_000);
});

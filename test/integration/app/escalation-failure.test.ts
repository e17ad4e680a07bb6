import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scaledClock } from "../../../functions/adapters/clock.js";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import type { EscalationDeps } from "../../../functions/escalation/deliveries.js";
import { recordFailure } from "../../../functions/escalation/failure.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import {
  clientFor,
  type Faults,
  freshTable,
  injectFaults,
  startTestDynamo,
} from "../../support/dynamo.js";
import { candidate } from "../../support/incidents.js";
import { act, command, fired } from "../../support/lifecycle.js";

const config = parseConfig(readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"));
const silent = new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" });
const T0 = Date.parse("2026-11-30T09:00:00.000Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const ERROR = {
  Error: "StoreUnavailableError",
  Cause: "DynamoDB request failed: InternalServerError",
};

let dynamo: EmbeddedDynamo;
let store: DynamoIncidentStore;
let faults: Faults;
let deps: EscalationDeps;
beforeAll(async () => {
  dynamo = await startTestDynamo();
  const client = clientFor(dynamo.endpoint);
  faults = injectFaults(client);
  store = new DynamoIncidentStore(client, await freshTable(client));
  deps = { store, config, runbooks: [], notifiers: {}, logger: silent, clock: scaledClock(1) };
});
afterAll(async () => {
  await dynamo.close();
});

/** A critical incident opened at T0 (levels at 0, 15, 30 and 60 minutes), as stored. */
async function opened(fingerprint: string) {
  const incident = candidate(fingerprint, at(0).toISOString());
  await fired(store, incident);
  return incident.id;
}

const failures = async (id: string) =>
  (await store.get(id))!.timeline
    .filter((e) => e.type === "notification_failed")
    .map((e) => e.detail);

describe("a step that failed past its Task's retries (Record failure)", () => {
  it("is tried again 30 s later while the incident is triggered, then as long again as it has failed", async () => {
    const id = await opened("fp-fail-again");
    const first = await recordFailure(deps, { incidentId: id, error: ERROR }, () => at(20));
    expect(first).toEqual({
      outcome: "again",
      at: new Date(at(20).getTime() + 30_000).toISOString(),
      failures: 1,
      since: at(20).toISOString(),
    });
    const second = await recordFailure(deps, { incidentId: id, error: ERROR, retry: first }, () =>
      at(25),
    );
    expect(second).toMatchObject({ outcome: "again", at: at(30).toISOString(), failures: 2 });
    expect(await failures(id)).toEqual([
      expect.stringMatching(
        /^an escalation step failed \(1 in a row .*InternalServerError; trying again at 2026-11-30T09:20:30/,
      ),
      expect.stringMatching(
        /\(2 in a row since 2026-11-30T09:20:00.000Z\).*trying again at 2026-11-30T09:30:00/,
      ),
    ]);
  });

  it("is tried again when the store cannot even be read (DynamoDB still down), and never throws", async () => {
    const id = await opened("fp-fail-unread");
    faults.failNext("GetItemCommand", { times: 10 });
    faults.failNext("UpdateItemCommand", { times: 10 });
    const outcome = await recordFailure(deps, { incidentId: id, error: ERROR }, () => at(500));
    // The policy's end is not known without the incident: it goes on.
    expect(outcome).toMatchObject({ outcome: "again", failures: 1 });
    faults.failNext("GetItemCommand", { times: 0 });
    faults.failNext("UpdateItemCommand", { times: 0 });
    expect(await failures(id)).toEqual([]);
  });

  it("stops once the incident is acknowledged, and gives up at the policy's end", async () => {
    const acked = await opened("fp-fail-acked");
    await act(store, acked, command("acknowledge", "dmitri"), at(5).toISOString());
    expect(
      await recordFailure(deps, { incidentId: acked, error: ERROR }, () => at(6)),
    ).toMatchObject({
      outcome: "stopped",
    });
    expect(await failures(acked)).toEqual([
      expect.stringMatching(/not tried again, the incident is acknowledged$/),
    ]);

    // The VP's level at 60 minutes, and its page's 4 hours: 5 hours after it opened.
    const open = await opened("fp-fail-end");
    const last = await recordFailure(deps, { incidentId: open, error: ERROR }, () => at(299));
    expect(last).toMatchObject({ outcome: "again", at: at(299.5).toISOString() });
    expect(
      await recordFailure(deps, { incidentId: open, error: ERROR, retry: last }, () => at(300)),
    ).toMatchObject({ outcome: "failed", failures: 2 });
    expect((await failures(open)).at(-1)).toMatch(/^escalation stopped: .*given up, 2 in a row/);
  });

  it("tries a mirror again while its state is owed, and gives up 4 hours after the change, settling it", async () => {
    const id = await opened("fp-fail-mirror");
    await act(store, id, command("resolve", "dmitri"), at(10).toISOString(), { mirrored: true });
    const input = { incidentId: id, error: ERROR, mirror: "resolve" as const };
    expect(await recordFailure(deps, input, () => at(11))).toMatchObject({ outcome: "again" });
    expect((await store.get(id))!.owedState).toBe("resolved");
    expect(await recordFailure(deps, input, () => at(250))).toMatchObject({ outcome: "failed" });
    expect((await store.get(id))!.owedState).toBeUndefined();
    expect((await failures(id)).at(-1)).toMatch(/^escalation stopped: .*given up/);
    // Nothing owed any more: a mirror failing now stops.
    expect(await recordFailure(deps, input, () => at(251))).toMatchObject({ outcome: "stopped" });
  });
});

import { afterAll, beforeAll, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import { DynamoReplayGuard } from "../../../functions/adapters/dynamodb/replay-guard.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { replayGuardContract } from "../../support/contracts/replay-guard.contract.js";
import { clientFor, freshTable, startTestDynamo, storeFaults } from "../../support/dynamo.js";
import { DynamoFaultProxy } from "../../support/fault-proxy.js";
import { candidate } from "../../support/incidents.js";
import { fired } from "../../support/lifecycle.js";

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 30, 9, 30, seconds)).toISOString();

let dynamo: EmbeddedDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

replayGuardContract("DynamoDB (dynalite)", async () => {
  const table = await freshTable(clientFor(dynamo.endpoint));
  const first = clientFor(dynamo.endpoint);
  const faults = storeFaults(first);
  return {
    // Each guard a client of its own: as many Lambda instances.
    guards: (count) =>
      Array.from(
        { length: count },
        (_, i) => new DynamoReplayGuard(i === 0 ? first : clientFor(dynamo.endpoint), table),
      ),
    faults,
  };
});

it("DynamoReplayGuard leaves the incident lists of its table alone", async () => {
  const client = clientFor(dynamo.endpoint);
  const table = await freshTable(client);
  const store = new DynamoIncidentStore(client, table);
  await fired(store, candidate("fp-replay", at(0)));
  await new DynamoReplayGuard(client, table).firstSeen("v0=ee", {
    now: at(0),
    until: at(300),
  });

  const page = await store.list({ limit: 10 });

  expect(page.incidents.map((i) => i.fingerprint)).toEqual(["fp-replay"]);
});

it("DynamoReplayGuard: a record whose answer was lost is still the first seen, not a replay of itself", async () => {
  // Prepare: the first PutItem reaches DynamoDB, then its connection resets before the
  // answer (as a timeout under load ends it): the SDK retries, and the retry's condition
  // fails on the record the first attempt wrote.
  const proxy = await DynamoFaultProxy.start({ upstream: dynamo.endpoint });
  try {
    const client = clientFor(proxy.endpoint);
    const table = await freshTable(clientFor(dynamo.endpoint));
    const guard = new DynamoReplayGuard(client, table);
    const other = new DynamoReplayGuard(clientFor(dynamo.endpoint), table);
    proxy.failNext("reset-after");
    // Act
    const first = await guard.firstSeen("v0=lost", { now: at(0), until: at(300) });
    // Assess: this call wrote it, so it acts; a copy of the request is still a replay.
    expect(proxy.stats.faults["reset-after"]).toBe(1);
    expect(first).toBe(true);
    expect(await other.firstSeen("v0=lost", { now: at(1), until: at(300) })).toBe(false);
    expect(await guard.firstSeen("v0=lost", { now: at(2), until: at(300) })).toBe(false);
  } finally {
    await proxy.close();
  }
});

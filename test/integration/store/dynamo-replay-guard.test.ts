import { afterAll, beforeAll, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import { DynamoReplayGuard } from "../../../functions/adapters/dynamodb/replay-guard.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { replayGuardContract } from "../../support/contracts/replay-guard.contract.js";
import { clientFor, freshTable, startTestDynamo, storeFaults } from "../../support/dynamo.js";
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

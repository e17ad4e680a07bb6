import { afterAll, beforeAll } from "vitest";
import { DynamoIncidentStore } from "../../functions/adapters/dynamodb/incident-store.js";
import type { EmbeddedDynamo } from "../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, injectFaults, startTestDynamo } from "../support/dynamo.js";
import { incidentStoreContract } from "./incident-store.contract.js";

let dynamo: EmbeddedDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

incidentStoreContract("DynamoDB (dynalite)", async () => {
  const client = clientFor(dynamo.endpoint);
  const faults = injectFaults(client);
  const store = new DynamoIncidentStore(client, await freshTable(client));
  return { store, faults };
});

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll } from "vitest";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../../support/dynamo.js";
import { escalationRacesProperty } from "../../support/properties/escalation-races.js";

let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let table: string;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  client = clientFor(dynamo.endpoint);
  table = await freshTable(client);
});
afterAll(async () => {
  await dynamo.close();
});

escalationRacesProperty("dynalite", () => new DynamoIncidentStore(client, table), 120);

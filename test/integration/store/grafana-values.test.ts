/**
 * Grafana's values on a stored incident: every refId an ordinary name (`constructor` and
 * `__proto__` trip the SDK's marshaller in a map), and items written as maps still read.
 */
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, expect, it } from "vitest";
import { toIncidentItem } from "../../../functions/adapters/dynamodb/incident-item.js";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../../support/dynamo.js";
import { at, candidate } from "../../support/incidents.js";
import { fired } from "../../support/lifecycle.js";

let dynamo: EmbeddedDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

const valuesOf = (names: Array<[string, number]>) => {
  const values: Record<string, number> = Object.create(null);
  for (const [name, value] of names) values[name] = value;
  return values;
};

it("keeps values named constructor and __proto__", async () => {
  const client = clientFor(dynamo.endpoint);
  const store = new DynamoIncidentStore(client, await freshTable(client));
  const values = valuesOf([
    ["__proto__", 5],
    ["constructor", 3],
    ["B", 87.5],
  ]);
  const { incident } = await fired(store, { ...candidate("fp-values", at(0)), values });
  expect(Object.entries((await store.get(incident.id))!.values!)).toEqual([
    ["__proto__", 5],
    ["constructor", 3],
    ["B", 87.5],
  ]);
});

it("reads values stored as a map by an earlier version", async () => {
  const client = clientFor(dynamo.endpoint);
  const table = await freshTable(client);
  const incident = candidate("fp-old-values", at(0));
  const item = { ...toIncidentItem(incident, 86_400), values: { B: 87, C: 1 } };
  await client.send(
    new PutItemCommand({ TableName: table, Item: marshall(item, { removeUndefinedValues: true }) }),
  );
  const stored = await new DynamoIncidentStore(client, table).get(incident.id);
  expect({ ...stored!.values }).toEqual({ B: 87, C: 1 });
});

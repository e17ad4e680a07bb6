import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../functions/adapters/dynamodb/incident-store.js";
import { TTL_ATTRIBUTE } from "../../functions/adapters/dynamodb/table-schema.js";
import type { EmbeddedDynamo } from "../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, injectFaults, startTestDynamo } from "../support/dynamo.js";
import { at, candidate } from "../support/incidents.js";
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

describe("DynamoDB specifics: retention", () => {
  it("sets the TTL on the incident and its fingerprint: the retention after they were last written", async () => {
    // Prepare
    const client = clientFor(dynamo.endpoint);
    const table = await freshTable(client);
    const store = new DynamoIncidentStore(client, table, { retentionSeconds: 86_400 });
    const fresh = candidate("fp-ttl", at(0));
    // Act
    await store.recordFiring(fresh);
    await store.recordFiring(candidate("fp-ttl", at(30), {}, at(0)));
    // Assess
    const item = async (pk: string, sk: string) =>
      (
        await client.send(
          new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } } }),
        )
      ).Item;
    const epoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);
    expect((await item(`INC#${fresh.id}`, "INC"))?.[TTL_ATTRIBUTE]).toEqual({
      N: String(epoch(at(0)) + 86_400),
    });
    expect((await item("FP#fp-ttl", "FP"))?.[TTL_ATTRIBUTE]).toEqual({
      N: String(epoch(at(30)) + 86_400),
    });
    expect(await store.get(fresh.id)).not.toHaveProperty(TTL_ATTRIBUTE);
  });
});

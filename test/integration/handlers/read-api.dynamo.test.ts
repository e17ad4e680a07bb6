import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../../support/dynamo.js";
import { type ReadApiGet, readApiOver, refusesForeignCursors } from "../../support/read-api.js";

/** The read API's cursors on DynamoDB: a digest of the listing and a key of its index. */

let dynamo: EmbeddedDynamo;
let get: ReadApiGet;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const client = clientFor(dynamo.endpoint);
  ({ get } = await readApiOver(new DynamoIncidentStore(client, await freshTable(client))));
});
afterAll(async () => {
  await dynamo.close();
});

describe("GET /incidents on DynamoDB: cursors", () => {
  refusesForeignCursors(() => get);

  it.each([
    ["another index's key", { pk: "INC#x", sk: "INC", teamKey: "TEAM#platform", createdKey: "2" }],
    ["a key with nothing of an incident", { pk: "FP#abc", sk: "FP" }],
    ["a key of another type", { pk: { S: "INC#x" }, sk: "INC" }],
    ["a key over DynamoDB's limits", { pk: `INC#${"a".repeat(2100)}`, sk: "INC" }],
  ])("refuses a cursor that decodes to %s with a 400", async (_, key) => {
    const cursor = Buffer.from(JSON.stringify(key)).toString("base64url");
    const { status, body } = await get("GET /incidents", { query: { cursor } });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: "invalid_parameter", field: "cursor" });
  });
});

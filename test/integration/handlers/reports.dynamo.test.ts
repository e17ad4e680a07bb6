/**
 * The report on DynamoDB: its access path (one Query on the time index, nothing else) and
 * the store's report listing, projected to the report's fields.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import { readApi } from "../../../functions/api/read-api.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import {
  clientFor,
  type Faults,
  freshTable,
  injectFaults,
  startTestDynamo,
} from "../../support/dynamo.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";
import { listsForReport, seedReportIncidents } from "../../support/report-incidents.js";

const TOKEN = "api-token-for-report-tests";
const NOW = new Date("2026-11-30T12:00:00.000Z");

let dynamo: EmbeddedDynamo;
let store: DynamoIncidentStore;
let faults: Faults;
let ids: Record<string, string>;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const client = clientFor(dynamo.endpoint);
  store = new DynamoIncidentStore(client, await freshTable(client));
  ids = await seedReportIncidents(store);
  faults = injectFaults(client);
});
afterAll(async () => {
  await dynamo.close();
});

describe("GET /reports/escalations on DynamoDB", () => {
  it("reads the last 30 days from one Query on the time index and one per month of the unreachable, nothing else", async () => {
    const handler = readApi({
      store,
      apiToken: () => TOKEN,
      logger: new Logger({ logLevel: "SILENT" }),
      now: () => NOW,
    });
    const result = await handler(
      httpEvent({
        routeKey: "GET /reports/escalations",
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
      lambdaContext,
    );
    // The time index; then UNREACH#2026-11 and UNREACH#2026-10 (the range starts on 31 October).
    expect(faults.sent).toEqual(["QueryCommand", "QueryCommand", "QueryCommand"]);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? "null").overall).toMatchObject({
      incidents: 5,
      acknowledged: 2,
      resolved: 2,
    });
  });
});

listsForReport(() => ({ store, ids }));

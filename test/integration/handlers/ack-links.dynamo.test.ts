import { Logger } from "@aws-lambda-powertools/logger";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import { DynamoReplayGuard } from "../../../functions/adapters/dynamodb/replay-guard.js";
import { scaledAfter } from "../../../functions/core/clock.js";
import { ackLinks } from "../../../functions/integrations/links/handler.js";
import { signLink } from "../../../functions/integrations/links/token.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../../support/dynamo.js";
import { NOW, parseBody, shippedConfig } from "../../support/handler-deps.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";
import { candidate } from "../../support/incidents.js";
import { fired } from "../../support/lifecycle.js";

/*
 * The acknowledgement links on DynamoDB (dynalite): every item of the table is compared, so
 * "a GET writes nothing" includes the replay guard's records; two POSTs of one link at once
 * act once (the conditional write of its record decides).
 */

const KEY = "link-key-for-dynamo-tests";
let dynamo: EmbeddedDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

async function setUp() {
  const client = clientFor(dynamo.endpoint);
  const table = await freshTable(client);
  const store = new DynamoIncidentStore(client, table);
  const opened = candidate("fp-links-dynamo", NOW.toISOString(), { team: "ml-training" });
  await fired(store, opened);
  const handler = ackLinks({
    store,
    config: shippedConfig,
    after: scaledAfter(1),
    logger: new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" }),
    keys: () => [KEY],
    replayGuard: new DynamoReplayGuard(client, table),
    now: () => NOW,
  });
  const call = (method: "GET" | "POST", token: string) =>
    handler(
      httpEvent({
        method,
        routeKey: `${method} /a/{token}`,
        path: `/a/${token}`,
        pathParameters: { token },
      }),
      lambdaContext,
    );
  const items = async () => {
    const { Items = [] } = await client.send(
      new ScanCommand({ TableName: table, ConsistentRead: true }),
    );
    return Items.sort((a, b) => `${a.pk?.S}${a.sk?.S}`.localeCompare(`${b.pk?.S}${b.sk?.S}`));
  };
  const link = (expiresAt = Math.floor(NOW.getTime() / 1000) + 3_600, key = KEY) =>
    signLink(key, { incidentId: opened.id, userId: "dmitri", action: "acknowledge", expiresAt });
  return { call, items, link, store, id: opened.id };
}

describe("GET and POST /a/{token} on DynamoDB", () => {
  it("a GET, and a forged or expired POST, leave every item of the table as it was", async () => {
    const t = await setUp();
    const before = await t.items();
    expect((await t.call("GET", t.link())).statusCode).toBe(200);
    expect((await t.call("POST", t.link(undefined, "not-our-key"))).statusCode).toBe(401);
    expect((await t.call("POST", t.link(Math.floor(NOW.getTime() / 1000) - 1))).statusCode).toBe(
      401,
    );
    expect(await t.items()).toEqual(before);
  });

  it("two POSTs of one link at once act once: one acknowledges, the other is 401 replayed", async () => {
    const t = await setUp();
    const token = t.link();
    const answers = await Promise.all([t.call("POST", token), t.call("POST", token)]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 401]);
    expect(parseBody(answers.find((a) => a.statusCode === 401)!)).toMatchObject({
      error: "replayed",
    });
    const incident = (await t.store.get(t.id))!;
    expect(incident.timeline.filter((e) => e.type === "acknowledged")).toHaveLength(1);
    const records = (await t.items()).filter((item) => item.pk?.S?.startsWith("SEEN#"));
    expect(records.map((r) => r.pk!.S)).toEqual([
      expect.stringMatching(/^SEEN#link:[0-9a-f]{24}$/),
    ]);
  });
});

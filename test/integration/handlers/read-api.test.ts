import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import { readApi } from "../../../functions/api/read-api.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../../support/dynamo.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";
import { at, candidate } from "../../support/incidents.js";

const TOKEN = "api-token-for-tests";
let dynamo: EmbeddedDynamo;
let handler: ReturnType<typeof readApi>;
const created: string[] = [];

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const client = clientFor(dynamo.endpoint);
  const store = new DynamoIncidentStore(client, await freshTable(client));
  for (let minute = 0; minute < 7; minute++) {
    const c = candidate(`fp-read-${minute}`, at(minute), {
      severity: minute < 3 ? "critical" : "warning",
    });
    await store.recordFiring(c);
    created.push(c.id);
  }
  handler = readApi({ store, apiToken: () => TOKEN, logger: new Logger({ logLevel: "SILENT" }) });
});
afterAll(async () => {
  await dynamo.close();
});

const get = async (
  routeKey: string,
  options: { query?: Record<string, string>; id?: string; token?: string | null } = {},
) => {
  const path = options.id ? `/incidents/${options.id}` : routeKey.split(" ")[1]!;
  const token = options.token === undefined ? TOKEN : options.token;
  const result = await handler(
    httpEvent({
      routeKey,
      path,
      ...(options.query ? { query: options.query } : {}),
      ...(options.id ? { pathParameters: { id: options.id } } : {}),
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    }),
    lambdaContext,
  );
  return { status: result.statusCode, body: JSON.parse(result.body ?? "null") };
};

describe("GET /incidents", () => {
  it("lists newest first, a page at a time", async () => {
    const first = await get("GET /incidents", { query: { limit: "4" } });
    expect(first.status).toBe(200);
    expect(first.body.incidents.map((i: { id: string }) => i.id)).toEqual(
      created.slice(3).reverse(),
    );
    const second = await get("GET /incidents", {
      query: { limit: "4", cursor: first.body.nextCursor },
    });
    expect(second.body.incidents.map((i: { id: string }) => i.id)).toEqual(
      created.slice(0, 3).reverse(),
    );
    expect(second.body.nextCursor).toBeNull();
  });

  it("filters by severity and time", async () => {
    const { body } = await get("GET /incidents", {
      query: { severity: "critical", since: at(1), until: at(5) },
    });
    expect(body.incidents.map((i: { id: string }) => i.id)).toEqual([created[2], created[1]]);
  });

  const bad: Array<[Record<string, string>, string]> = [
    [{ status: "open" }, "status"],
    [{ severity: "sev1" }, "severity"],
    [{ since: "yesterday" }, "since"],
    [{ since: at(5), until: at(1) }, "since"],
    [{ limit: "501" }, "limit"],
    [{ limit: "0" }, "limit"],
    [{ limit: "ten" }, "limit"],
    [{ cursor: "garbage" }, "cursor"],
    [{ team: "Not A Team!" }, "team"],
  ];
  it.each(bad)("refuses %j with a 400 naming %s", async (query, field) => {
    const { status, body } = await get("GET /incidents", { query });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: "invalid_parameter", field });
  });

  it("refuses a team name over 128 characters, which no config can hold, with a 400", async () => {
    const { status, body } = await get("GET /incidents", { query: { team: "a".repeat(2100) } });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: "invalid_parameter", field: "team" });
  });

  it.each([
    ["a listing by status", { status: "triggered" }, { team: "ml-training" }],
    ["a listing by team", { team: "ml-training" }, {}],
    ["the whole list", {}, { severity: "critical" }],
    ["the whole list", {}, { since: at(2) }],
  ])("refuses a cursor of %s in another listing with a 400", async (_, from, to) => {
    const first = await get("GET /incidents", { query: { ...from, limit: "2" } });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const { status, body } = await get("GET /incidents", {
      query: { ...to, limit: "2", cursor: first.body.nextCursor },
    });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: "invalid_parameter", field: "cursor" });
  });

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

  it.each([null, "wrong"])("needs the API token (given: %s)", async (token) => {
    const { status, body } = await get("GET /incidents", { token });
    expect(status).toBe(401);
    expect(body.error).toBe("unauthorized");
  });
});

describe("GET /incidents/{id}", () => {
  it("returns the incident with its timeline", async () => {
    const { status, body } = await get("GET /incidents/{id}", { id: created[0]! });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: created[0],
      status: "triggered",
      severity: "critical",
      timeline: [{ type: "triggered", at: at(0) }],
    });
  });

  it("answers 404 for an unknown id", async () => {
    const { status, body } = await get("GET /incidents/{id}", { id: "nope" });
    expect(status).toBe(404);
    expect(body.error).toBe("not_found");
  });

  it.each([
    ["over 2 KB, DynamoDB's key limit", "a".repeat(2100)],
    ["over 128 characters", "a".repeat(129)],
    ["with a space", "a b"],
    ["with a slash", "../etc"],
    ["of control characters", "\u0000\u0001"],
  ])("refuses an id %s with a 400 naming id", async (_, id) => {
    const { status, body } = await get("GET /incidents/{id}", { id });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: "invalid_parameter", field: "id" });
  });
});

describe("GET /healthz", () => {
  it("answers without a token", async () => {
    expect(await get("GET /healthz", { token: null })).toEqual({
      status: 200,
      body: { status: "ok" },
    });
  });
});

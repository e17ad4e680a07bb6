/**
 * The read API's history parts on the memory store: level filters, CSV exports, the escalation
 * report (its figures, its ranges, its access path) and the session cookie as credentials.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE, sessionValue } from "../../../functions/adapters/http/session.js";
import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { readApi } from "../../../functions/api/read-api.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";
import { day, listsForReport, seedReportIncidents } from "../../support/report-incidents.js";
import { faultPlan, type StoreFaults } from "../../support/store-faults.js";

const TOKEN = "api-token-for-report-tests";
/** The handlers' clock: the default report range is the 30 days before this. */
const NOW = new Date("2026-11-30T12:00:00.000Z");

let store: MemoryIncidentStore;
let faults: StoreFaults;
let handler: ReturnType<typeof readApi>;
let ids: Record<string, string>;

beforeAll(async () => {
  const plan = faultPlan();
  faults = plan.faults;
  store = new MemoryIncidentStore({ beforeRequest: plan.beforeRequest });
  ids = await seedReportIncidents(store);
  await store.recordUnreachable([
    {
      at: "2026-11-11T09:20:00.000Z",
      incidentId: ids.a!,
      team: "ml-training",
      level: 3,
      userId: "grace",
      reason: "no usable contact method: rules name sms, voice; no phone",
    },
    // Before the default range: not listed.
    {
      at: "2026-10-01T09:00:00.000Z",
      incidentId: ids.a!,
      team: "ml-training",
      level: 2,
      userId: "bob",
      reason: "no contact method reached them: sms failed",
    },
  ]);
  faults.sent.length = 0;
  handler = readApi({
    store,
    apiToken: () => TOKEN,
    logger: new Logger({ logLevel: "SILENT" }),
    now: () => NOW,
  });
});

async function get(
  path: string,
  options: {
    query?: Record<string, string>;
    headers?: Record<string, string>;
    routeKey?: string;
  } = {},
) {
  const result = await handler(
    httpEvent({
      routeKey: options.routeKey ?? `GET ${path}`,
      path,
      ...(options.query ? { query: options.query } : {}),
      ...(path.startsWith("/incidents/") ? { pathParameters: { id: path.split("/")[2]! } } : {}),
      headers: options.headers ?? { authorization: `Bearer ${TOKEN}` },
    }),
    lambdaContext,
  );
  const type = String(result.headers?.["content-type"] ?? "");
  return {
    status: result.statusCode,
    headers: result.headers ?? {},
    body: type.startsWith("application/json") ? JSON.parse(result.body ?? "null") : result.body,
  };
}

const listed = async (query: Record<string, string>) =>
  (await get("/incidents", { query })).body.incidents.map((i: { id: string }) => i.id);

describe("GET /incidents: level filters", () => {
  it.each([
    [{ level: "0" }, ["evil", "c", "old"]],
    [{ level: "2" }, ["a"]],
    [{ minLevel: "1" }, ["d", "b", "a"]],
    [{ minLevel: "2", team: "platform" }, ["d"]],
    [{ minLevel: "2", status: "resolved" }, ["a"]],
    [{ level: "3" }, []],
  ])("%j gives %j", async (query, names) => {
    expect(await listed(query)).toEqual(names.map((n) => ids[n]));
  });

  it.each([
    [{ level: "-1" }, "level"],
    [{ level: "two" }, "level"],
    [{ level: "1.5" }, "level"],
    [{ minLevel: "100" }, "minLevel"],
    [{ format: "xml" }, "format"],
  ])("refuses %j with a 400 naming %s", async (query, field) => {
    const { status, body } = await get("/incidents", { query });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: "invalid_parameter", field });
  });
});

describe("GET /incidents?format=csv", () => {
  it("exports every match with a header row, quoting and a formula guard", async () => {
    const { status, headers, body } = await get("/incidents", {
      query: { format: "csv", team: "platform" },
    });
    expect(status).toBe(200);
    expect(headers["content-type"]).toMatch(/^text\/csv; charset=utf-8/);
    expect(headers["content-disposition"]).toMatch(
      /^attachment; filename="tocsin-incidents-2026-11-30\.csv"$/,
    );
    const lines = (body as string).split("\r\n");
    expect(lines[0]).toBe(
      "id,created_at,status,severity,team,title,highest_level,occurrences,acknowledged_at,acknowledged_by,seconds_to_acknowledge,resolved_at,resolved_by,seconds_to_resolve,source,fingerprint,runbook_url,labels",
    );
    expect(body).toContain(
      `"'=HYPERLINK(""http://evil.example"",""click""), ""quoted""\nsecond line"`,
    );
    expect(body).toContain(`${ids.c},${day(11, 12)},resolved,warning,platform,`);
    expect(body).toContain(
      `,0,1,,,,${new Date(Date.parse(day(11, 12)) + 30 * 60_000).toISOString()},Erin Walsh,1800,`,
    );
    // Header, four platform incidents, and the empty string after the last CRLF.
    expect(lines).toHaveLength(6);
  });

  it("follows the cursor itself up to `limit` rows and hands back the rest as x-next-cursor", async () => {
    const { body, headers } = await get("/incidents", { query: { format: "csv", limit: "2" } });
    expect((body as string).trim().split("\r\n")).toHaveLength(3);
    const rest = await get("/incidents", {
      query: { format: "csv", cursor: String(headers["x-next-cursor"]) },
    });
    expect((rest.body as string).trim().split("\r\n")).toHaveLength(5);
  });

  it("exports an incident's timeline", async () => {
    const { status, body } = await get(`/incidents/${ids.a}`, {
      routeKey: "GET /incidents/{id}",
      query: { format: "csv" },
    });
    expect(status).toBe(200);
    expect((body as string).split("\r\n").slice(0, 4)).toEqual([
      "incident_id,at,type,level,channel,target,actor,detail",
      `${ids.a},${day(10)},triggered,,,,alertmanager,critical alert for team ml-training (fired at ${day(10)})`,
      `${ids.a},${day(10, 9, 20)},acknowledged,,,,Dmitri Volkov,`,
      `${ids.a},${day(10, 10, 0)},resolved,,,,Erin Walsh,`,
    ]);
  });
});

describe("GET /reports/escalations", () => {
  it("reports the last 30 days by default, from a Query on the time index and one of the unreachable, nothing else", async () => {
    const sentBefore = faults.sent.length;
    const { status, body } = await get("/reports/escalations");
    expect(faults.sent.slice(sentBefore)).toEqual(["query", "query"]);
    // Who could not be reached, in the range only.
    expect(body.unreachable).toEqual([
      {
        at: "2026-11-11T09:20:00.000Z",
        incidentId: ids.a,
        team: "ml-training",
        level: 3,
        userId: "grace",
        reason: "no usable contact method: rules name sms, voice; no phone",
      },
    ]);
    expect(status).toBe(200);
    expect(body.since).toBe("2026-10-31T12:00:00.000Z");
    expect(body.until).toBe(NOW.toISOString());
    expect(body.overall).toEqual({
      key: "all",
      incidents: 5,
      acknowledged: 2,
      resolved: 2,
      mtta: { count: 2, mean: 750, p50: 300, p90: 1200 },
      mttr: { count: 2, mean: 2700, p50: 1800, p90: 3600 },
    });
    expect(
      body.byTeam.map((g: { key: string; incidents: number }) => [g.key, g.incidents]),
    ).toEqual([
      ["platform", 3],
      ["ml-training", 2],
    ]);
    expect(body.bySeverity.map((g: { key: string }) => g.key)).toEqual([
      "critical",
      "high",
      "warning",
      "info",
    ]);
    expect(body.byHighestLevel).toEqual([
      { level: 0, incidents: 2 },
      { level: 1, incidents: 1 },
      { level: 2, incidents: 1 },
      { level: 4, incidents: 1 },
    ]);
    expect(body.acknowledgementsByResponder.map((r: { responder: string }) => r.responder)).toEqual(
      ["Dmitri Volkov", "Erin Walsh"],
    );
    expect(body.perDay).toHaveLength(31);
    expect(body.perDay.find((d: { day: string }) => d.day === "2026-11-11")).toEqual({
      day: "2026-11-11",
      incidents: 2,
    });
  });

  it("takes since and until, a bare until date meaning the whole day", async () => {
    const { body } = await get("/reports/escalations", {
      query: { since: "2026-10-01", until: "2026-11-11" },
    });
    expect(body.until).toBe("2026-11-11T23:59:59.999Z");
    expect(body.overall.incidents).toBe(4); // old, a, b, c
  });

  it("exports the report as CSV, one section per breakdown", async () => {
    const { status, headers, body } = await get("/reports/escalations", {
      query: { format: "csv" },
    });
    expect(status).toBe(200);
    expect(headers["content-disposition"]).toContain(
      "tocsin-escalations-2026-10-31-to-2026-11-30.csv",
    );
    const lines = (body as string).split("\r\n");
    expect(lines[0]).toBe(
      "section,key,incidents,acknowledged,resolved,mtta_mean_seconds,mtta_p50_seconds,mtta_p90_seconds,mttr_mean_seconds,mttr_p50_seconds,mttr_p90_seconds",
    );
    expect(lines).toContain("overall,all,5,2,2,750,300,1200,2700,1800,3600");
    expect(lines).toContain("highest_level,4,1,,,,,,,,");
    expect(lines).toContain("responder,Dmitri Volkov,,1,,1200,1200,1200,,,");
    expect(lines).toContain("day,2026-11-11,2,,,,,,,,");
    expect(lines).toContain("left_out,test,0,,,,,,,,");
  });

  it.each([
    [{ since: "2026-11-20T00:00:00Z", until: "2026-11-10T00:00:00Z" }, "since"],
    [{ since: "2025-01-01T00:00:00Z", until: "2026-11-10T00:00:00Z" }, "since"],
    [{ since: "last week" }, "since"],
    [{ until: "soon" }, "until"],
    [{ format: "pdf" }, "format"],
  ])("refuses %j with a 400 naming %s", async (query, field) => {
    const { status, body } = await get("/reports/escalations", { query });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: "invalid_parameter", field });
  });
});

listsForReport(() => ({ store, ids }));

describe("credentials", () => {
  const cookie = (value: string) => ({ cookie: `other=1; ${SESSION_COOKIE}=${value}` });

  it("accepts a signed-in browser's session cookie instead of the header", async () => {
    const { status } = await get("/reports/escalations", {
      headers: cookie(sessionValue(TOKEN, NOW)),
    });
    expect(status).toBe(200);
  });

  it("reads the cookie from API Gateway's `cookies` list, where Lambda gets it", async () => {
    const event = httpEvent({ routeKey: "GET /incidents", path: "/incidents" });
    event.cookies = ["theme=dark", `${SESSION_COOKIE}=${sessionValue(TOKEN, NOW)}`];
    expect((await handler(event, lambdaContext)).statusCode).toBe(200);
  });

  it.each([
    ["no credentials", {}],
    ["a cookie made with another token", cookie(sessionValue("old-token", NOW))],
    ["an expired cookie", cookie(sessionValue(TOKEN, new Date(NOW.getTime() - 13 * 3600_000)))],
    ["the raw token as cookie", cookie(TOKEN)],
    ["a wrong bearer token", { authorization: "Bearer nope" }],
  ])("answers 401 JSON to %s", async (_what, headers) => {
    const { status, body } = await get("/incidents", { headers });
    expect(status).toBe(401);
    expect(body.error).toBe("unauthorized");
  });
});

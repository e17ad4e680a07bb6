import { beforeAll, describe, expect, it } from "vitest";
import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { at } from "../../support/incidents.js";
import { type ReadApiClient, readApiOver, refusesForeignCursors } from "../../support/read-api.js";

let api: ReadApiClient;
let created: string[];
let get: ReadApiClient["get"];

beforeAll(async () => {
  api = await readApiOver(new MemoryIncidentStore());
  ({ created, get } = api);
});

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

  refusesForeignCursors(() => get);

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

describe("GET /incidents/{id}: people's phones", () => {
  it("masks the phone of an owed text or call, as the timeline does", async () => {
    const store = new MemoryIncidentStore();
    const { created: ids, get: read } = await readApiOver(store);
    const id = ids[0]!;
    const contact = (method: "sms" | "email", address: string) => ({
      userId: "alice",
      name: "Alice Martin",
      method,
      address,
      rule: 0,
    });
    const owed = (key: string, method: "sms" | "email", address: string) => ({
      key,
      step: 0,
      channelId: `@alice:${method}`,
      kind: "trigger" as const,
      level: 1,
      recipients: [],
      claimedAt: at(0),
      attempts: 0,
      contact: contact(method, address),
    });
    await store.apply(id, {
      guard: { exists: true },
      owe: [owed("s0p0", "sms", "+14155552671"), owed("s0p1", "email", "alice@example.com")],
    });

    const { body } = await read("GET /incidents/{id}", { id });

    expect(
      body.owedDeliveries.map((o: { contact: { address: string } }) => o.contact.address),
    ).toEqual(["+•••••••2671", "alice@example.com"]);
    expect(JSON.stringify(body)).not.toContain("4155552671");
  });
});

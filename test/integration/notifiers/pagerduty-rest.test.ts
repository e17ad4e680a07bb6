import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  explainRestError,
  pagerDutyRest,
  type RestOptions,
} from "../../../functions/integrations/pagerduty/rest.js";
import { PagerDutyUnreachableError } from "../../../functions/integrations/pagerduty/transport.js";
import { FakePagerDuty } from "../../support/fake-pagerduty.js";
import { freePort } from "../../support/free-port.js";

const TOKEN = "u+restToken-abcdefghijkl";
const BOT = { id: "PBOTUSR", email: "tocsin-bot@example.com", name: "tocsin bot" };
const ALICE = { id: "PALICE1", email: "alice@example.com", name: "Alice Martin" };
const BOB = { id: "PBOB123", email: "bob@example.com", name: "Bob Chen" };
const SERVICE = "PWIXJZS";

let fake: FakePagerDuty;
beforeAll(async () => {
  fake = await FakePagerDuty.start({
    account: { tokens: [TOKEN], users: [BOT, ALICE, BOB], services: [{ id: SERVICE, name: "x" }] },
  });
});
afterEach(() => {
  fake.reset();
  fake.rest.account.requestsPerMinute = 960;
});
afterAll(async () => {
  await fake.close();
});

function rest(options: Partial<RestOptions> = {}) {
  return pagerDutyRest({
    token: TOKEN,
    from: BOT.email,
    server: fake.server,
    ca: fake.ca,
    timeoutMs: 5_000,
    ...options,
  });
}

const createBody = (assignees: string[], key = "c0ffee00-0000-4000-8000-000000000001") => ({
  incident: {
    type: "incident",
    title: "GPU 3 memory above 95%",
    service: { id: SERVICE, type: "service_reference" },
    urgency: "high",
    incident_key: key,
    body: { type: "incident_body", details: "details" },
    assignments: assignees.map((id) => ({ assignee: { id, type: "user_reference" } })),
  },
});

describe("pagerDutyRest: one pdjs api() call is one request with PagerDuty's headers", () => {
  it("creates an incident with Token auth, version 2 and From, and the fake notifies the assignee", async () => {
    const answer = await rest().request("POST", "/incidents", createBody([ALICE.id]));

    expect(answer.status).toBe(201);
    const incident = (answer.body as { incident: { id: string; status: string } }).incident;
    expect(incident.status).toBe("triggered");
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request!.method).toBe("POST");
    expect(request!.path).toBe("/incidents");
    expect(request!.headers.authorization).toBe(`Token token=${TOKEN}`);
    expect(request!.headers.accept).toBe("application/vnd.pagerduty+json;version=2");
    expect(request!.headers.from).toBe(BOT.email);
    expect(request!.notified).toEqual([ALICE.id]);
    expect(fake.incident("c0ffee00-0000-4000-8000-000000000001")!.assignees).toEqual([ALICE.id]);
  });

  it("sends a GET's data as its query, arrays as key[] repeated", async () => {
    await rest().request("POST", "/incidents", createBody([ALICE.id]));
    const answer = await rest().request("GET", "/incidents", {
      incident_key: "c0ffee00-0000-4000-8000-000000000001",
      "service_ids[]": [SERVICE],
      "statuses[]": ["triggered", "acknowledged"],
    });

    expect(answer.status).toBe(200);
    expect((answer.body as { incidents: unknown[] }).incidents).toHaveLength(1);
    const url = new URL(fake.requests[1]!.path, "https://x");
    expect(url.searchParams.getAll("statuses[]")).toEqual(["triggered", "acknowledged"]);
    expect(url.searchParams.getAll("service_ids[]")).toEqual([SERVICE]);
  });

  it("reassigns and resolves by PUT; the fake notifies only new assignees", async () => {
    const created = await rest().request("POST", "/incidents", createBody([ALICE.id]));
    const id = (created.body as { incident: { id: string } }).incident.id;

    const reassigned = await rest().request("PUT", `/incidents/${id}`, {
      incident: {
        type: "incident_reference",
        assignments: [ALICE.id, BOB.id].map((u) => ({
          assignee: { id: u, type: "user_reference" },
        })),
      },
    });
    const resolved = await rest().request("PUT", `/incidents/${id}`, {
      incident: { type: "incident_reference", status: "resolved" },
    });
    const again = await rest().request("PUT", `/incidents/${id}`, {
      incident: { type: "incident_reference", status: "resolved" },
    });

    expect([reassigned.status, resolved.status, again.status]).toEqual([200, 200, 400]);
    expect(fake.requests.map((r) => r.notified)).toEqual([[ALICE.id], [BOB.id], [], []]);
    expect(explainRestError(again)).toBe(": Incident Already Resolved (code 1001)");
    expect(fake.rest.incidents.get(id)!.assignmentHistory).toEqual([
      [ALICE.id],
      [ALICE.id, BOB.id],
    ]);
  });

  it("creates an incident the bot assigns to itself acknowledged, notifying nobody", async () => {
    const answer = await rest().request("POST", "/incidents", createBody([BOT.id]));

    expect((answer.body as { incident: { status: string } }).incident.status).toBe("acknowledged");
    expect(fake.requests[0]!.notified).toEqual([]);
  });
});

describe("pagerDutyRest: PagerDuty's refusals, as documented", () => {
  it.each([
    ["an unknown token", { token: "u+wrong" }, createBody([ALICE.id]), 401, 2006],
    ["an unknown From", { from: "nobody@example.com" }, createBody([ALICE.id]), 400, 1008],
    ["an unknown assignee", {}, createBody(["PNOBODY"]), 400, 1007],
    ["two assignees on create", {}, createBody([ALICE.id, BOB.id]), 400, 2001],
  ] as const)("%s: %i with code %i", async (_name, options, body, status, code) => {
    const answer = await rest(options).request("POST", "/incidents", body);

    expect(answer.status).toBe(status);
    expect((answer.body as { error: { code: number } }).error.code).toBe(code);
    expect(fake.rest.incidents.size).toBe(0);
  });

  it("refuses a second create with an open incident's incident_key (400), allows it once resolved", async () => {
    const first = await rest().request("POST", "/incidents", createBody([ALICE.id]));
    const second = await rest().request("POST", "/incidents", createBody([ALICE.id]));
    expect(second.status).toBe(400);
    expect(explainRestError(second)).toMatch(/matching dedup key already exists/);

    const id = (first.body as { incident: { id: string } }).incident.id;
    await rest().request("PUT", `/incidents/${id}`, {
      incident: { type: "incident_reference", status: "resolved" },
    });
    expect((await rest().request("POST", "/incidents", createBody([ALICE.id]))).status).toBe(201);
  });

  it("a 429 over the token's budget is one request, with ratelimit-reset as the wait", async () => {
    fake.rest.account.requestsPerMinute = 1;
    await rest().request("GET", "/incidents");
    const limited = await rest().request("GET", "/incidents");

    expect(limited.status).toBe(429);
    expect(limited.retryAfterSeconds).toBeGreaterThan(0);
    expect(limited.retryAfterSeconds).toBeLessThanOrEqual(60);
    // pdjs would have retried three more times, 20 s apart: it sent nothing more.
    expect(fake.requests.map((r) => r.status)).toEqual([200, 429]);
    expect(fake.requests[1]!.path).toBe("/incidents");
  });

  it("an injected 429 says its ratelimit-reset; a 5xx in plain text is still answered", async () => {
    fake.failNext({ status: 429, retryAfter: 7 });
    fake.failNext({ status: 503 });

    expect(await rest().request("GET", "/incidents")).toEqual({
      status: 429,
      retryAfterSeconds: 7,
    });
    expect(await rest().request("GET", "/incidents")).toEqual({ status: 503 });
    expect(fake.requests).toHaveLength(2);
  });

  it("no answer (a refused connection) throws PagerDutyUnreachableError", async () => {
    const port = await freePort();
    await expect(
      rest({ server: `127.0.0.1:${port}` }).request("GET", "/incidents"),
    ).rejects.toBeInstanceOf(PagerDutyUnreachableError);
  });

  it("a hung request times out as unreachable", async () => {
    fake.failNext({ hang: true });
    await expect(rest({ timeoutMs: 300 }).request("GET", "/incidents")).rejects.toBeInstanceOf(
      PagerDutyUnreachableError,
    );
  });
});

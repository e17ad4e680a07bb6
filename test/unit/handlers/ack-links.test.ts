import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import {
  MemoryIncidentStore,
  type StoreRequest,
} from "../../../functions/adapters/memory/incident-store.js";
import { MemoryReplayGuard } from "../../../functions/adapters/memory/replay-guard.js";
import { scaledAfter } from "../../../functions/core/clock.js";
import type { EscalationRunner } from "../../../functions/core/escalation-runner.js";
import { ackLinks } from "../../../functions/integrations/links/handler.js";
import { signLink } from "../../../functions/integrations/links/token.js";
import { NOW, parseBody, rememberingGuard, shippedConfig } from "../../support/handler-deps.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";
import { candidate } from "../../support/incidents.js";
import { fired } from "../../support/lifecycle.js";

const KEY = "link-key-for-handler-tests";
const nowSeconds = Math.floor(NOW.getTime() / 1000);

async function setUp() {
  const requests: StoreRequest[] = [];
  const store = new MemoryIncidentStore({ beforeRequest: (kind) => requests.push(kind) });
  const { guard, remembered } = rememberingGuard(new MemoryReplayGuard());
  const engine: string[] = [];
  const runner: EscalationRunner = {
    start: async (id) => {
      engine.push(`start ${id}`);
    },
    stop: async (id) => {
      engine.push(`stop ${id}`);
    },
    resume: async (id) => {
      engine.push(`resume ${id}`);
    },
    mirror: async (id, kind) => {
      engine.push(`mirror ${id} ${kind}`);
    },
  } as EscalationRunner;
  const opened = candidate("fp-links", NOW.toISOString(), { team: "ml-training" });
  await fired(store, opened);
  const incident = opened;
  requests.length = 0;
  const handler = ackLinks({
    store,
    config: shippedConfig,
    escalation: runner,
    after: scaledAfter(1),
    logger: new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" }),
    keys: () => [KEY],
    replayGuard: guard,
    now: () => NOW,
  });
  const call = (method: "GET" | "POST", token: string, accept = "application/json") =>
    handler(
      httpEvent({
        method,
        routeKey: `${method} /a/{token}`,
        path: `/a/${token}`,
        pathParameters: { token },
        headers: { accept },
      }),
      lambdaContext,
    );
  const link = (
    action: "acknowledge" | "resolve",
    overrides: { expiresAt?: number; userId?: string; key?: string } = {},
  ) =>
    signLink(overrides.key ?? KEY, {
      incidentId: incident.id,
      userId: overrides.userId ?? "dmitri",
      action,
      expiresAt: overrides.expiresAt ?? nowSeconds + 3_600,
    });
  return { store, requests, remembered, engine, incident, call, link };
}

describe("GET /a/{token}", () => {
  it("shows the incident and a form that posts back, and writes nothing at all", async () => {
    const t = await setUp();
    const before = await t.store.get(t.incident.id);
    t.requests.length = 0;
    const page = await t.call("GET", t.link("acknowledge"), "text/html,application/xhtml+xml");
    expect(page.statusCode).toBe(200);
    expect(page.headers).toMatchObject({
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
      "x-robots-tag": "noindex, nofollow",
    });
    expect(page.headers!["content-security-policy"]).toMatch(
      /default-src 'none'.*form-action 'self'/,
    );
    expect(page.headers!["content-security-policy"]).toContain("script-src 'none'");
    expect(page.body).toContain(
      '<form method="post"><button type="submit">Acknowledge as Dmitri Volkov</button></form>',
    );
    expect(page.body).toContain(t.incident.title);
    expect(page.body).not.toMatch(/<script|<a |<img/i);
    const json = await t.call("GET", t.link("resolve"));
    expect(parseBody(json)).toEqual({
      incident: {
        id: t.incident.id,
        title: t.incident.title,
        severity: "critical",
        status: "triggered",
        team: "ml-training",
      },
      action: "resolve",
      as: "Dmitri Volkov (dmitri)",
    });
    // Reads only: no write to the store, nothing remembered, the engine untouched.
    expect(new Set(t.requests)).toEqual(new Set(["read"]));
    expect(t.remembered).toEqual([]);
    expect(t.engine).toEqual([]);
    expect(await t.store.get(t.incident.id)).toEqual(before);
  });

  it("refuses forged, malformed and expired links with 401, writing nothing", async () => {
    const t = await setUp();
    const cases = [
      [t.link("acknowledge", { key: "another-deployment" }), "forged"],
      [`${t.link("acknowledge")}x`, "malformed"],
      ["not-a-token", "malformed"],
      [t.link("acknowledge", { expiresAt: nowSeconds - 1 }), "expired"],
    ] as const;
    for (const method of ["GET", "POST"] as const)
      for (const [token, reason] of cases) {
        const answer = await t.call(method, token);
        expect(answer.statusCode, `${method} ${reason}`).toBe(401);
        expect(parseBody(answer)).toMatchObject({ error: reason, message: expect.any(String) });
      }
    const page = await t.call("POST", cases[0][0], "text/html");
    expect(page.statusCode).toBe(401);
    expect(page.headers!["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.body).toContain("Nothing changed");
    expect(t.requests).toEqual([]);
    expect(t.remembered).toEqual([]);
  });
});

describe("POST /a/{token}", () => {
  it("acknowledges once as the person via link, stops the escalation and mirrors; the same link again is 401 replayed", async () => {
    const t = await setUp();
    const token = t.link("acknowledge");
    const done = await t.call("POST", token);
    expect(done.statusCode).toBe(200);
    expect(parseBody(done)).toMatchObject({
      ok: true,
      outcome: "done",
      incident: { status: "acknowledged" },
    });
    const stored = (await t.store.get(t.incident.id))!;
    expect(stored).toMatchObject({
      status: "acknowledged",
      acknowledgedBy: "Dmitri Volkov (dmitri)",
    });
    expect(stored.timeline.at(-1)).toMatchObject({
      type: "acknowledged",
      actor: "Dmitri Volkov (dmitri)",
    });
    expect(t.engine).toEqual([`stop ${t.incident.id}`, `mirror ${t.incident.id} acknowledge`]);
    expect(t.remembered).toHaveLength(1);
    expect(t.remembered[0]).toMatch(/^link:[0-9a-f]{24}$/);

    const again = await t.call("POST", token);
    expect(again.statusCode).toBe(401);
    expect(parseBody(again)).toMatchObject({ error: "replayed" });
    expect((await t.store.get(t.incident.id))!.timeline).toHaveLength(stored.timeline.length);
  });

  it("answers 409 for an acknowledge once acknowledged by someone else, and for any link once resolved", async () => {
    const t = await setUp();
    expect((await t.call("POST", t.link("acknowledge", { userId: "erin" }))).statusCode).toBe(200);
    const late = await t.call("POST", t.link("acknowledge"));
    expect(late.statusCode).toBe(409);
    expect(parseBody(late)).toMatchObject({
      error: "acknowledged",
      message: expect.stringContaining("Erin Walsh (erin)"),
    });
    expect((await t.call("GET", t.link("acknowledge"))).statusCode).toBe(409);
    // A resolve link still resolves an acknowledged incident.
    const resolved = await t.call("POST", t.link("resolve"), "text/html");
    expect(resolved.statusCode).toBe(200);
    expect(resolved.body).toContain("Resolved by Dmitri Volkov (dmitri)");
    const timeline = (await t.store.get(t.incident.id))!.timeline.length;
    for (const action of ["acknowledge", "resolve"] as const) {
      const refused = await t.call("POST", t.link(action, { userId: "bob" }));
      expect(refused.statusCode, action).toBe(409);
      expect(parseBody(refused)).toMatchObject({ error: "resolved" });
      expect((await t.call("GET", t.link(action, { userId: "bob" }))).statusCode).toBe(409);
    }
    expect((await t.store.get(t.incident.id))!.timeline).toHaveLength(timeline);
  });

  it("answers 404 for an incident tocsin does not have and 403 for a person the config lost", async () => {
    const t = await setUp();
    const unknown = signLink(KEY, {
      incidentId: "0f8b3c4e-2a71-4d19-9c55-7e0d1b2a3c4d",
      userId: "dmitri",
      action: "acknowledge",
      expiresAt: nowSeconds + 60,
    });
    expect((await t.call("POST", unknown)).statusCode).toBe(404);
    const gone = await t.call("POST", t.link("acknowledge", { userId: "someone-who-left" }));
    expect(gone.statusCode).toBe(403);
    expect(parseBody(gone)).toMatchObject({ error: "unknown_person" });
    expect(t.remembered).toEqual([]);
  });
});

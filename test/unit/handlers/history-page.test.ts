/**
 * The history page through the read function's handler on the memory store: sign-in, session
 * cookie, escaping, CSP, and each view's content.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../../../functions/adapters/http/session.js";
import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { readApi } from "../../../functions/api/read-api.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";
import { at, candidate } from "../../support/incidents.js";
import { act, command, fired } from "../../support/lifecycle.js";

const TOKEN = "page-token-for-tests";
const NOW = new Date("2026-12-01T09:00:00.000Z");
const SCRIPT = "<script>alert(1)</script>";
const IMG = `"><img src=x onerror=alert(1)>`;

let store: MemoryIncidentStore;
let handler: ReturnType<typeof readApi>;
let evilId = "";
let escalatedId = "";

beforeAll(async () => {
  store = new MemoryIncidentStore();
  const evil = {
    ...candidate("fp-evil", at(0), { team: "platform", severity: "warning" }),
    title: `Disk full ${SCRIPT}`,
    labels: { alertname: SCRIPT, job: IMG },
    annotations: { summary: IMG, runbook_url: "javascript:alert(1)" },
    runbook: { name: SCRIPT, url: "javascript:alert(1)" },
  };
  await fired(store, evil);
  evilId = evil.id;
  const escalated = { ...candidate("fp-escalated", at(1)), title: "Loss is NaN on llama-70b" };
  await fired(store, escalated);
  escalatedId = escalated.id;
  await store.apply(escalated.id, {
    guard: { exists: true },
    append: [
      {
        at: at(1),
        type: "notified",
        level: 0,
        channel: "slack-incidents",
        detail: "trigger: posted",
      },
      {
        at: at(1),
        type: "notified",
        level: 1,
        channel: "pagerduty-ml",
        target: "Dmitri Volkov",
        detail: "trigger: not delivered: no credentials",
      },
    ],
  });
  await store.apply(escalated.id, {
    guard: { status: ["triggered"], stepUnclaimed: 2, noSnoozeAt: at(16) },
    claimStep: 2,
    set: { escalationStep: 2, level: 2 },
    append: [{ at: at(16), type: "escalated", level: 2, detail: "to level 2: Erin Walsh" }],
  });
  await store.apply(escalated.id, {
    guard: { exists: true },
    append: [
      {
        at: at(16),
        type: "notification_failed",
        level: 2,
        channel: "email-oncall",
        target: "Erin Walsh",
        detail: "escalate: SNS throttled",
      },
    ],
  });
  await act(store, escalated.id, command("acknowledge", "Erin Walsh"), at(20));
  handler = readApi({
    store,
    apiToken: () => TOKEN,
    logger: new Logger({ logLevel: "SILENT" }),
    now: () => NOW,
  });
});

interface Call {
  method?: "GET" | "POST";
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  /** The client's address (API Gateway's sourceIp). */
  from?: string;
  /** Another handler than the file's (its own throttle and clock). */
  via?: ReturnType<typeof readApi>;
}

async function call({ method = "GET", path = "/", query, headers = {}, body, from, via }: Call) {
  const event = httpEvent({
    routeKey: `${method} ${path}`,
    path,
    headers: { host: "127.0.0.1:8080", ...headers },
    ...(query ? { query } : {}),
    ...(body !== undefined ? { body } : {}),
  });
  if (from) event.requestContext.http.sourceIp = from;
  const result = await (via ?? handler)(event, lambdaContext);
  return {
    status: result.statusCode,
    headers: (result.headers ?? {}) as Record<string, string>,
    body: result.body ?? "",
  };
}

async function signIn(host = "127.0.0.1:8080") {
  const response = await call({
    method: "POST",
    path: "/login",
    headers: {
      host,
      origin: `http://${host}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ token: TOKEN }).toString(),
  });
  return response;
}

const sessionFrom = (setCookie: string) => setCookie.split(";")[0]!;

describe("sign-in", () => {
  it("shows the sign-in form, and no data, without credentials", async () => {
    const { status, headers, body } = await call({});
    expect(status).toBe(401);
    expect(headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(body).toContain('<form method="post" action="/login">');
    expect(body).not.toContain("Disk full");
  });

  it("refuses a wrong token with the form again", async () => {
    const { status, body, headers } = await call({
      method: "POST",
      path: "/login",
      body: "token=wrong",
    });
    expect(status).toBe(401);
    expect(body).toContain("That token is not valid.");
    expect(headers["set-cookie"]).toBeUndefined();
  });

  it("refuses a sign-in posted from another site", async () => {
    const { status, headers } = await call({
      method: "POST",
      path: "/login",
      headers: { origin: "https://evil.example" },
      body: `token=${TOKEN}`,
    });
    expect(status).toBe(403);
    expect(headers["set-cookie"]).toBeUndefined();
  });

  it.each([
    ["127.0.0.1:8080", false],
    ["localhost:8080", false],
    ["abc123.execute-api.eu-west-1.amazonaws.com", true],
  ])(
    "sets an HttpOnly, SameSite=Strict cookie without the token on %s (Secure: %s)",
    async (host, secure) => {
      const { status, headers } = await signIn(host);
      expect(status).toBe(303);
      expect(headers.location).toBe("/");
      const cookie = headers["set-cookie"]!;
      expect(cookie).toMatch(
        new RegExp(
          `^${SESSION_COOKIE}=v1\\.\\d+\\.[\\w-]{43}; Max-Age=43200; Path=/; HttpOnly; SameSite=Strict`,
        ),
      );
      expect(cookie.includes("; Secure")).toBe(secure);
      expect(cookie).not.toContain(TOKEN);
    },
  );

  it("refuses a sign-out posted from another site", async () => {
    const session = sessionFrom((await signIn()).headers["set-cookie"]!);
    const out = await call({
      method: "POST",
      path: "/logout",
      headers: { cookie: session, origin: "https://evil.example" },
    });
    expect(out.status).toBe(403);
    expect(out.headers["set-cookie"]).toBeUndefined();
    expect((await call({ headers: { cookie: session } })).status).toBe(200);
  });

  it("lets the cookie in, and signing out clears it", async () => {
    const session = sessionFrom((await signIn()).headers["set-cookie"]!);
    expect((await call({ headers: { cookie: session } })).status).toBe(200);
    const out = await call({ method: "POST", path: "/logout", headers: { cookie: session } });
    expect(out.status).toBe(303);
    expect(out.headers["set-cookie"]).toMatch(
      new RegExp(`^${SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict`),
    );
  });
});

describe("wrong tokens", () => {
  let now = NOW;
  let guarded: ReturnType<typeof readApi>;
  beforeAll(() => {
    guarded = readApi({
      store,
      apiToken: () => TOKEN,
      logger: new Logger({ logLevel: "SILENT" }),
      now: () => now,
    });
  });
  const login = (token: string, from: string) =>
    call({
      via: guarded,
      from,
      method: "POST",
      path: "/login",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
    });

  it("2,000 guesses on /login get 6 answers, then 429 with Retry-After until the wait ends", async () => {
    const statuses: Array<number | undefined> = [];
    for (let i = 0; i < 2_000; i++)
      statuses.push((await login(`guess-${i}`, "198.51.100.7")).status);
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(new Set(statuses.slice(6))).toEqual(new Set([429]));
    const throttled = await login(TOKEN, "198.51.100.7");
    expect(throttled.status).toBe(429);
    expect(throttled.headers["retry-after"]).toBe("1");
    expect(throttled.body).toContain(
      "Too many wrong tokens from your address. Try again in 1 seconds.",
    );
    expect(throttled.headers["set-cookie"]).toBeUndefined();
  });

  it("let the real user in meanwhile: from another address, or signed in already", async () => {
    const elsewhere = await login(TOKEN, "203.0.113.50");
    expect(elsewhere.status).toBe(303);
    const session = sessionFrom(elsewhere.headers["set-cookie"]!);
    const page = await call({ via: guarded, from: "198.51.100.7", headers: { cookie: session } });
    expect(page.status).toBe(200);
  });

  it("count on the API and the page too, and answer the API's 429 in JSON", async () => {
    const api = await call({
      via: guarded,
      from: "198.51.100.7",
      path: "/incidents",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(api.status).toBe(429);
    expect(api.headers["retry-after"]).toBe("1");
    expect(JSON.parse(api.body)).toMatchObject({ error: "too_many_attempts" });
    const page = await call({
      via: guarded,
      from: "198.51.100.7",
      headers: { authorization: "Bearer wrong" },
    });
    expect(page.status).toBe(429);
  });

  it("check the token again once the wait is over, and forget the guesses on a right one", async () => {
    now = new Date(NOW.getTime() + 1_000);
    expect((await login(TOKEN, "198.51.100.7")).status).toBe(303);
    expect((await login("wrong-again", "198.51.100.7")).status).toBe(401);
  });
});

describe("the pages", () => {
  let session = "";
  beforeAll(async () => {
    session = sessionFrom((await signIn()).headers["set-cookie"]!);
  });
  const page = (query?: Record<string, string>) =>
    call({ headers: { cookie: session }, ...(query ? { query } : {}) });

  it("serve a CSP that runs no script and allows only the nonce'd stylesheet", async () => {
    const { headers, body } = await page();
    const csp = headers["content-security-policy"]!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'none'");
    const nonce = /style-src 'nonce-([^']+)'/.exec(csp)![1]!;
    expect(body).toContain(`<style nonce="${nonce}">`);
    expect(body).not.toMatch(/<script/i);
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  });

  it("list incidents newest first, with every user value escaped", async () => {
    const { status, body } = await page();
    expect(status).toBe(200);
    expect(body.indexOf("Loss is NaN on llama-70b")).toBeLessThan(body.indexOf("Disk full"));
    expect(body).toContain("Disk full &lt;script&gt;alert(1)&lt;/script&gt;");
    expect(body).not.toContain(SCRIPT);
    expect(body).toContain(`href="/incidents?format=csv"`);
  });

  it("filter by the form's fields, keeping them in the form and the CSV link", async () => {
    const { body } = await page({ team: "platform", minLevel: "", until: "2026-11-30" });
    expect(body).toContain("Disk full");
    expect(body).not.toContain("Loss is NaN");
    expect(body).toContain('name="team" value="platform"');
    expect(body).toContain(
      `href="/incidents?until=2026-11-30T23%3A59%3A59.999Z&amp;team=platform&amp;format=csv"`,
    );
  });

  it("say which filter is wrong", async () => {
    const { status, body } = await page({ severity: "sev1" });
    expect(status).toBe(400);
    expect(body).toContain("severity: must be one of critical, high, warning, info");
  });

  it("show an incident's labels and annotations as text, and no javascript: link", async () => {
    const { status, body } = await page({ incident: evilId });
    expect(status).toBe(200);
    expect(body).not.toContain(SCRIPT);
    expect(body).not.toContain(IMG);
    expect(body).toContain("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    expect(body).not.toMatch(/href="javascript:/i);
  });

  it("show the escalation level by level and the timeline", async () => {
    const { body } = await page({ incident: escalatedId });
    expect(body).toContain("When it opened");
    expect(body).toMatch(/<section class="level" data-level="2">\s*<h3>Level 2/);
    expect(body).toContain("Escalated to level 2: Erin Walsh");
    expect(body).toContain('<td class="failed">failed</td>');
    expect(body).toContain('<td class="not_delivered">not delivered</td>');
    expect(body).toContain("by Erin Walsh via slack at 2026-11-30 09:20:00 UTC (after 19m 00s)");
    expect(body).toContain(`href="/incidents/${escalatedId}?format=csv"`);
  });

  it("answer 404 for an unknown incident", async () => {
    const { status, body } = await page({ incident: "nope" });
    expect(status).toBe(404);
    expect(body).toContain("no incident with id nope");
  });

  it.each([
    ["over 2 KB", "a".repeat(2100)],
    ["with markup", SCRIPT],
  ])("refuse an incident id %s with a 400 page", async (_, id) => {
    const { status, body } = await page({ incident: id });
    expect(status).toBe(400);
    expect(body).toContain("incident: is not an incident id");
    expect(body).not.toContain(SCRIPT);
  });

  it("refuse a cursor of another listing with a 400 page", async () => {
    const { status, body } = await page({ cursor: Buffer.from("{}").toString("base64url") });
    expect(status).toBe(400);
    expect(body).toContain("cursor: ");
  });

  it("show the report with its charts and CSV link", async () => {
    const { status, body } = await page({ view: "report" });
    expect(status).toBe(200);
    expect(body).toContain('<div class="big" id="total-incidents">2</div>');
    expect(body.match(/<svg class="chart"/g)).toHaveLength(2);
    expect(body).toContain('aria-label="Incidents per day (UTC)"');
    expect(body).toContain("<title>level 2: 1</title>");
    expect(body).toContain(
      `href="/reports/escalations?since=2026-11-01T09%3A00%3A00.000Z&amp;until=2026-12-01T09%3A00%3A00.000Z&amp;format=csv"`,
    );
  });

  it("show per level who was tried how, with the provider's id, and who could not be reached", async () => {
    const reason = `no usable contact method: rules name sms; no phone ${SCRIPT}`;
    await store.apply(escalatedId, {
      guard: { exists: true },
      append: [
        {
          at: at(16),
          type: "notified",
          level: 2,
          channel: "@erin:sms",
          target: "Erin Walsh",
          person: "erin",
          method: "sms",
          rule: 0,
          outcome: "delivered",
          providerId: "7f0c2a",
          detail: "escalate: accepted by SNS for +1•••••2671",
        },
        {
          at: at(16),
          type: "unreachable",
          level: 2,
          person: "grace",
          target: "Grace Okafor",
          detail: reason,
        },
      ],
    });
    await store.recordUnreachable([
      {
        at: at(16),
        incidentId: escalatedId,
        team: "ml-training",
        level: 2,
        userId: "grace",
        reason,
      },
    ]);
    const incident = (await page({ incident: escalatedId })).body;
    expect(incident).toContain("<th>Method</th><th>Outcome</th><th>Provider id</th>");
    expect(incident).toMatch(
      /<td>Erin Walsh<\/td><td>sms<\/td>\s*<td class="delivered">delivered<\/td><td>7f0c2a<\/td>/,
    );
    expect(incident).toMatch(/<tr class="unreachable">.*<td>Grace Okafor<\/td>/s);
    expect(incident).not.toContain(SCRIPT);
    const report = (await page({ view: "report" })).body;
    expect(report).toContain("<h2>Who could not be reached</h2>");
    expect(report).toMatch(
      new RegExp(
        `<td><a href="/\\?incident=${escapeRegExp(escalatedId)}">[^<]+</a></td><td>ml-training</td><td class="num">2</td><td>grace</td>`,
      ),
    );
    expect(report).not.toContain(SCRIPT);
  });

  it("refuse a report range that runs backwards", async () => {
    const { status, body } = await page({
      view: "report",
      since: "2026-11-20",
      until: "2026-11-01",
    });
    expect(status).toBe(400);
    expect(body).toContain("since: must not be after until");
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

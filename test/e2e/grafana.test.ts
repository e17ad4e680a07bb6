/**
 * Grafana's webhook contact point against the local server over HTTP, Slack and PagerDuty
 * fakes behind it: a delivery signed as Grafana signs it (renamed headers included), and
 * what Grafana adds to an alert (values, panel image, rule uid) on the incident, its page
 * and its notifications.
 */
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { labelsFingerprint } from "../../functions/core/fingerprint.js";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import { grafanaSignatureHeaders } from "../../functions/integrations/grafana/signature.js";
import type { Block } from "../../functions/integrations/slack/message.js";
import { fixture } from "../support/fixtures.js";
import { type LocalWithFakes, startLocalWithFakes } from "../support/local-with-fakes.js";
import { waitUntil } from "../support/poll-until.js";

const WEBHOOK = "e2e-grafana-webhook-token";
const API = "e2e-grafana-api-token";
const SECRET = "e2e-grafana-hmac-secret";
const IMAGE = "https://grafana-images.example/alerting/2Ab9xR.png";

let fakes: LocalWithFakes;
let sequence = 0;

beforeAll(async () => {
  fakes = await startLocalWithFakes({
    webhookToken: WEBHOOK,
    apiToken: API,
    grafanaHmacSecret: SECRET,
    // As a contact point with hmacConfig {header: X-Tocsin-Signature, timestampHeader: X-Tocsin-Signed-At}.
    grafanaHeaders: grafanaSignatureHeaders({
      TOCSIN_GRAFANA_SIGNATURE_HEADER: "X-Tocsin-Signature",
      TOCSIN_GRAFANA_TIMESTAMP_HEADER: "X-Tocsin-Signed-At",
    }),
  });
}, 60_000);
afterAll(async () => {
  await fakes?.close();
});
beforeEach(() => {
  fakes.slack.reset();
  fakes.pagerDuty.reset();
});

/** A Grafana body: the captured one, its alert changed by `alert`, a new fingerprint each time. */
function grafanaBody(alert: Record<string, unknown> = {}) {
  const body = fixture("grafana-webhook-firing.json") as { alerts: Record<string, unknown>[] };
  body.alerts[0] = {
    ...body.alerts[0],
    fingerprint: `e2e${String(++sequence).padStart(13, "0")}`,
    ...alert,
  };
  return JSON.stringify(body);
}

/** POSTs as Grafana's HMACRoundTripper does: "<unix seconds>:<body>", hex, in the named headers. */
function postSigned(body: string, headers: Record<string, string> = {}) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac("sha256", SECRET).update(`${timestamp}:${body}`).digest("hex");
  return fetch(`${fakes.local.url}/webhooks/grafana`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${WEBHOOK}`,
      "Content-Type": "application/json",
      "X-Tocsin-Signature": signature,
      "X-Tocsin-Signed-At": timestamp,
      ...headers,
    },
    body,
  });
}

const api = async (path: string) =>
  fetch(`${fakes.local.url}${path}`, { headers: { authorization: `Bearer ${API}` } });
const incident = async (id: string) =>
  (await (await api(`/incidents/${id}`)).json()) as IncidentWithTimeline;

describe("Grafana's signature with renamed headers", () => {
  it("accepts a delivery signed in the headers the contact point names", async () => {
    const response = await postSigned(grafanaBody());
    expect(response.status).toBe(202);
  });

  it("refuses one without the timestamp header, saying which header it expected", async () => {
    const response = await postSigned(grafanaBody(), { "X-Tocsin-Signed-At": "" });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      error: "unauthorized",
      message: expect.stringContaining("the x-tocsin-signed-at header is missing"),
    });
  });
});

describe("values, panel image and rule uid of a Grafana alert", () => {
  it("are on the incident, its page, its Slack message and its PagerDuty page", async () => {
    const body = grafanaBody({
      labels: { alertname: "GPUTemperature", gpu: "3", node: "node-7", severity: "critical" },
      imageURL: IMAGE,
      ruleUID: "ce1k2",
    });
    const response = await postSigned(body);
    expect(response.status).toBe(202);
    const { incidents } = (await response.json()) as { incidents: Array<{ id: string }> };
    const id = incidents[0]!.id;

    expect(await incident(id)).toMatchObject({
      values: { B: 87, C: 1 },
      valueText: expect.stringContaining("var='B'"),
      imageUrl: IMAGE,
      ruleId: "ce1k2",
    });
    const page = await (await api(`/?incident=${encodeURIComponent(id)}`)).text();
    expect(page).toContain("<code>B=87, C=1</code>");
    expect(page).toContain(`href="${IMAGE}"`);

    await waitUntil(
      () => fakes.pagerDuty.events.some((e) => e.dedup_key === id),
      "the PagerDuty page",
      10_000,
      25,
    );
    const page0 = fakes.pagerDuty.events.find((e) => e.dedup_key === id)!;
    expect(page0.images).toEqual([expect.objectContaining({ src: IMAGE })]);
    // Found by its buttons, which carry the incident id.
    const message = () =>
      fakes.slack
        .callsTo("chat.postMessage")
        .find((call) => JSON.stringify(call.args.blocks).includes(`"value":"${id}"`));
    await waitUntil(() => message() !== undefined, "the Slack message", 10_000, 25);
    const blocks = message()!.args.blocks as Block[];
    expect(blocks).toContainEqual(expect.objectContaining({ type: "image", image_url: IMAGE }));
    expect(JSON.stringify(blocks)).toContain("B=87, C=1");
  });
});

describe("Grafana's values", () => {
  it("keep every refId as an ordinary name, __proto__ and constructor included", async () => {
    // JSON.parse keeps "__proto__" as a name; the body is built as text for that reason.
    const body = grafanaBody().replace(
      '"values":{"B":87,"C":1}',
      '"values":{"__proto__":5,"constructor":3,"B":87}',
    );
    const response = await postSigned(body);
    expect(response.status).toBe(202);
    const { incidents } = (await response.json()) as { incidents: Array<{ id: string }> };
    const stored = await incident(incidents[0]!.id);
    expect(Object.entries(stored.values ?? {})).toEqual([
      ["__proto__", 5],
      ["constructor", 3],
      ["B", 87],
    ]);
  });

  it("that are not numbers are refused with 422 naming the value, and nothing is written", async () => {
    const before = (await (await api("/incidents?limit=500")).json()) as { incidents: unknown[] };
    const response = await postSigned(grafanaBody({ values: { B: "87" } }));
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ field: "alerts.0.values.B" });
    const after = (await (await api("/incidents?limit=500")).json()) as { incidents: unknown[] };
    expect(after.incidents).toHaveLength(before.incidents.length);
  });
});

describe("Grafana's Test button", () => {
  const testBody = (labels?: Record<string, string>) => {
    const body = fixture("grafana-test-notification.json") as {
      groupKey: string;
      alerts: Array<Record<string, unknown>>;
    };
    // Grafana's test alert starts when the button is clicked.
    body.alerts[0]!.startsAt = new Date().toISOString();
    if (labels) {
      const all = { alertname: "TestAlert", instance: "Grafana", ...labels };
      const fingerprint = labelsFingerprint(all);
      body.alerts[0] = { ...body.alerts[0], labels: all, fingerprint };
      body.groupKey = `webhook-${fingerprint}-${Math.floor(Date.now() / 1000)}`;
    }
    return JSON.stringify(body);
  };
  const post = async (body: string) => {
    const response = await postSigned(body);
    expect(response.status).toBe(202);
    const { incidents } = (await response.json()) as { incidents: Array<{ id: string }> };
    return incidents[0]!.id;
  };
  const waitForResolved = async (body: string) => {
    const id = await post(body);
    await waitUntil(
      async () => (await incident(id)).status === "resolved",
      "the test incident to resolve by itself",
      10_000,
      25,
    );
    return incident(id);
  };
  const test = async (body: string) => {
    const id = (await waitForResolved(body)).id;
    // Its Slack message is updated to say it is resolved.
    await waitUntil(
      async () => (await incident(id)).timeline.some((e) => e.detail?.startsWith("resolve:")),
      "the resolve mirrored to Slack",
      10_000,
      25,
    );
    return incident(id);
  };

  it("tells Slack it is a test, pages nobody, and resolves by itself", async () => {
    const resolved = await test(testBody());
    expect(resolved).toMatchObject({
      test: true,
      title: "Grafana test: Notification test",
      status: "resolved",
      resolvedBy: "tocsin",
      level: 0,
    });
    expect(resolved.timeline.map((e) => `${e.type}:${e.channel ?? e.actor}`)).toEqual([
      "triggered:grafana",
      "notified:slack-alerts",
      "resolved:tocsin",
      "notified:slack-alerts",
    ]);
    const [post, ...others] = fakes.slack
      .callsTo("chat.postMessage")
      .filter((call) => JSON.stringify(call.args.blocks).includes(resolved.id));
    expect(others).toEqual([]);
    expect(post!.args.text).toMatch(/^\[TEST\] Grafana test: Notification test/);
    expect(JSON.stringify(post!.args.blocks)).toContain("nobody is paged");
    const [update] = fakes.slack.callsTo("chat.update");
    expect(JSON.stringify(update!.args.blocks)).toContain("Resolved by tocsin");
    expect(fakes.pagerDuty.events.filter((e) => e.dedup_key === resolved.id)).toEqual([]);
  });

  it("pages nobody even when its labels route it to a critical escalation", async () => {
    const resolved = await test(testBody({ severity: "critical", team: "ml-training" }));
    expect(resolved).toMatchObject({ severity: "critical", status: "resolved", level: 0 });
    const told = resolved.timeline.filter((e) => e.type === "notified").map((e) => e.channel);
    expect(told.sort()).toEqual(["email-oncall", "slack-incidents", "slack-incidents"]);
    expect(resolved.timeline.some((e) => e.type === "escalated")).toBe(false);
    expect(fakes.pagerDuty.events.filter((e) => e.dedup_key === resolved.id)).toEqual([]);
  });

  it("resolves by itself when its route tells nobody (info)", async () => {
    const resolved = await waitForResolved(testBody({ severity: "info" }));
    expect(resolved.timeline.map((e) => e.type)).toEqual(["triggered", "resolved"]);
  });

  it("is left out of the escalation report's figures and marked as a test in the lists", async () => {
    const since = new Date().toISOString();
    const test = (await waitForResolved(testBody())).id;
    // A real Grafana alert beside it, resolved by Grafana a moment later.
    const realBody = grafanaBody();
    const real = await post(realBody);
    const resolvedBody = JSON.parse(realBody) as { alerts: Array<Record<string, unknown>> };
    resolvedBody.alerts[0]!.status = "resolved";
    resolvedBody.alerts[0]!.endsAt = new Date().toISOString();
    await post(JSON.stringify({ ...resolvedBody, status: "resolved" }));
    const until = new Date(Date.now() + 1000).toISOString();

    const report = (await (
      await api(`/reports/escalations?since=${since}&until=${until}`)
    ).json()) as {
      overall: { incidents: number; resolved: number };
      testIncidents: number;
    };
    const listed = (await (await api(`/incidents?since=${since}&until=${until}`)).json()) as {
      incidents: Array<{ id: string; test?: boolean }>;
    };
    const page = await (await api("/")).text();
    const reportPage = await (await api(`/?view=report&since=${since}&until=${until}`)).text();

    expect(report.overall).toMatchObject({ incidents: 1, resolved: 1 });
    expect(report.testIncidents).toBe(1);
    expect(listed.incidents.find((i) => i.id === test)).toMatchObject({ test: true });
    expect(listed.incidents.find((i) => i.id === real)!.test).toBeUndefined();
    const row = page.slice(page.indexOf(test), page.indexOf("</tr>", page.indexOf(test)));
    expect(row).toContain('class="badge test"');
    expect(reportPage).toContain('<div class="big" id="total-incidents">1</div>');
    expect(reportPage).toMatch(/1 test incident \(Grafana's Test button\) left out/);
  });

  it("opens a new test incident at the next click, the last one being resolved", async () => {
    const first = await test(testBody());
    const second = await test(testBody());
    expect(second.id).not.toBe(first.id);
    expect(second).toMatchObject({ status: "resolved", occurrences: 1 });
  });
});

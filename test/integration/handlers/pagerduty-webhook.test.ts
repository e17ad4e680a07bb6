import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { MemoryReplayGuard } from "../../../functions/adapters/memory/replay-guard.js";
import { scaledAfter } from "../../../functions/core/clock.js";
import type { Config } from "../../../functions/core/config.js";
import type { EscalationRunner } from "../../../functions/core/escalation-runner.js";
import type { IncidentWithTimeline } from "../../../functions/core/incident.js";
import { pagerDutyNotifier } from "../../../functions/integrations/pagerduty/notifier.js";
import {
  type PagerDutyWebhookDeps,
  pagerDutyWebhook,
} from "../../../functions/integrations/pagerduty/webhook.js";
import { apiGatewayBridge } from "../../../functions/local/http-bridge.js";
import { type FakeIncident, FakePagerDuty } from "../../support/fake-pagerduty.js";
import { rememberingGuard } from "../../support/handler-deps.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";
import { candidate } from "../../support/incidents.js";
import { act, fired, person } from "../../support/lifecycle.js";
import { notification } from "../../support/notifications.js";
import { baseConfig, silent } from "../../support/slack-interactions.js";

const SECRET = "pd-webhook-secret-current";
const OLD_SECRET = "pd-webhook-secret-rotating-out";
const TOKEN = "u+webhookTestToken-000000";
const BOT = { id: "PBOTUSR", email: "tocsin-bot@example.com", name: "tocsin bot" };
const DMITRI_PD = { id: "PDMITRI", email: "dmitri@example.com", name: "Dmitri Volkov" };
const OUTSIDER = { id: "POUTSDR", email: "pat@example.com", name: "Pat Outsider" };
const SERVICE = "PWIXJZS";
const NOW = new Date("2026-11-30T09:30:00.000Z");
const OPENED = "2026-11-30T09:25:00.000Z";

/** The shipped config with Dmitri's PagerDuty user id. */
const config: Config = {
  ...baseConfig,
  users: { ...baseConfig.users, dmitri: { ...baseConfig.users.dmitri!, pagerduty: DMITRI_PD.id } },
};

let fake: FakePagerDuty;
let store: MemoryIncidentStore;
let remembered: string[];
let deps: PagerDutyWebhookDeps;
let calls: string[];
let fingerprints = 0;

beforeAll(async () => {
  fake = await FakePagerDuty.start({
    account: {
      tokens: [TOKEN],
      users: [BOT, DMITRI_PD, OUTSIDER],
      services: [{ id: SERVICE, name: "ML training" }],
    },
  });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  store = new MemoryIncidentStore();
  const guard = rememberingGuard(new MemoryReplayGuard());
  remembered = guard.remembered;
  calls = [];
  const runner: EscalationRunner = {
    start: async (id) => void calls.push(`start ${id}`),
    stop: async (id) => void calls.push(`stop ${id}`),
    mirror: async (id, kind) => void calls.push(`mirror ${id} ${kind}`),
    resume: async (id) => void calls.push(`resume ${id}`),
  };
  deps = {
    store,
    config,
    escalation: runner,
    after: scaledAfter(1),
    logger: silent,
    secrets: () => `${SECRET},${OLD_SECRET}`,
    replayGuard: guard.guard,
    now: () => NOW,
  };
});

const handler = () => pagerDutyWebhook(deps);

/** A tocsin incident and the PagerDuty incident user mode opened for it (assigned to Dmitri). */
async function openBoth(): Promise<{ incident: IncidentWithTimeline; pd: FakeIncident }> {
  const incident = candidate(`fp-pd-${++fingerprints}`, OPENED);
  await fired(store, incident);
  const notifier = pagerDutyNotifier({ server: fake.server, ca: fake.ca, rest: { token: TOKEN } });
  const outcome = await notifier.send(
    notification("pagerduty", {
      incident,
      channelId: "pagerduty-people",
      channel: { type: "pagerduty", mode: "user", service: SERVICE, from: BOT.email },
      recipients: [{ userId: "dmitri", name: "Dmitri Volkov", pagerduty: DMITRI_PD.id }],
    }),
  );
  expect(outcome.status).toBe("delivered");
  return { incident, pd: fake.incident(incident.id)! };
}

async function post(request: { body: string; headers: Record<string, string> }) {
  const result = await handler()(
    httpEvent({
      routeKey: "POST /webhooks/pagerduty",
      body: request.body,
      headers: request.headers,
    }),
    lambdaContext,
  );
  return { status: result.statusCode, body: JSON.parse(result.body ?? "null") };
}

const delivery = (
  type: string,
  pd: FakeIncident,
  options: Partial<Parameters<FakePagerDuty["webhookDelivery"]>[2]> = {},
) =>
  fake.webhookDelivery(type, pd, {
    secrets: [SECRET],
    agent: DMITRI_PD.id,
    occurredAt: NOW.toISOString(),
    ...options,
  });

/** Everything the store and the replay guard hold, to show a request wrote nothing. */
const snapshot = async (id: string) => JSON.stringify([await store.get(id), remembered]);

describe("POST /webhooks/pagerduty: a person acts in PagerDuty", () => {
  it("an acknowledgement in PagerDuty acknowledges tocsin as that person, via pagerduty, and stops the escalation", async () => {
    const { incident, pd } = await openBoth();

    const answer = await post(delivery("incident.acknowledged", pd));

    expect(answer).toEqual({
      status: 200,
      body: { status: "acknowledged", incidentId: incident.id },
    });
    const stored = (await store.get(incident.id))!;
    expect(stored.status).toBe("acknowledged");
    expect(stored.acknowledgedBy).toBe("Dmitri Volkov (dmitri)");
    expect(stored.timeline.at(-1)).toMatchObject({
      type: "acknowledged",
      actor: "Dmitri Volkov (dmitri)",
    });
    expect(calls).toEqual([`stop ${incident.id}`, `mirror ${incident.id} acknowledge`]);
    expect(remembered).toHaveLength(1);
  });

  it("a resolve in PagerDuty by someone tocsin does not know resolves it, naming them and the PagerDuty incident", async () => {
    const { incident, pd } = await openBoth();

    const answer = await post(delivery("incident.resolved", pd, { agent: OUTSIDER.id }));

    expect(answer.body).toEqual({ status: "resolved", incidentId: incident.id });
    const stored = (await store.get(incident.id))!;
    expect(stored.resolvedBy).toBe(`Pat Outsider (PagerDuty ${OUTSIDER.id})`);
    expect(stored.timeline.at(-1)).toMatchObject({
      type: "resolved",
      detail: expect.stringContaining(`in PagerDuty incident ${pd.id}`),
    });
  });

  it("a merge in PagerDuty (incident.resolved with a merge_resolve_reason) acknowledges, not resolves: the alert still fires", async () => {
    const { incident, pd } = await openBoth();
    const merged = { ...pd, status: "resolved" as const, mergedInto: "PTARGET" };

    const answer = await post(delivery("incident.resolved", merged));

    expect(answer.body).toEqual({ status: "acknowledged", incidentId: incident.id });
    const stored = (await store.get(incident.id))!;
    expect(stored.status).toBe("acknowledged");
    expect(stored.resolvedAt).toBeNull();
    expect(stored.timeline.at(-1)).toEqual({
      at: NOW.toISOString(),
      type: "acknowledged",
      actor: "Dmitri Volkov (dmitri)",
      via: "pagerduty",
      detail: `PagerDuty incident ${pd.id} merged into PTARGET; the alert stays open until it resolves`,
    });
    expect(calls).toEqual([`stop ${incident.id}`, `mirror ${incident.id} acknowledge`]);
  });

  it("a delivery signed only with the secret being rotated out is taken", async () => {
    const { pd } = await openBoth();
    const answer = await post(delivery("incident.acknowledged", pd, { secrets: [OLD_SECRET] }));
    expect(answer.body.status).toBe("acknowledged");
  });

  it("PagerDuty's repeat of a delivery is 200 {duplicate: true} and writes nothing", async () => {
    const { incident, pd } = await openBoth();
    const first = delivery("incident.acknowledged", pd);
    await post(first);
    const before = await snapshot(incident.id);
    calls.length = 0;

    // The same event again, as PagerDuty retries it (a new X-Webhook-Id would not matter).
    const again = await post({
      ...first,
      headers: { ...first.headers, "x-webhook-id": "another-delivery-id" },
    });

    expect(again).toEqual({ status: 200, body: { duplicate: true } });
    expect(await snapshot(incident.id)).toBe(before);
    expect(calls).toEqual([]);
  });
});

describe("POST /webhooks/pagerduty: refused and ignored deliveries write nothing", () => {
  it.each([
    [
      "unsigned",
      (d: ReturnType<typeof delivery>) => ({
        ...d,
        headers: { "content-type": "application/json" },
      }),
      /missing/,
    ],
    ["signed with another secret", () => null, /forged/],
    [
      "changed after signing",
      (d: ReturnType<typeof delivery>) => ({
        ...d,
        body: d.body.replace("acknowledged", "resolved"),
      }),
      /forged/,
    ],
    [
      "a header with no v1 signature",
      (d: ReturnType<typeof delivery>) => ({
        ...d,
        headers: { ...d.headers, "x-pagerduty-signature": "v0=abc" },
      }),
      /malformed/,
    ],
  ] as const)("%s: 401", async (_name, change, message) => {
    const { incident, pd } = await openBoth();
    const before = await snapshot(incident.id);
    const request =
      change(delivery("incident.acknowledged", pd)) ??
      delivery("incident.acknowledged", pd, { secrets: ["an-attackers-secret"] });

    const answer = await post(request);

    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({
      error: "unauthorized",
      message: expect.stringMatching(message),
    });
    expect(await snapshot(incident.id)).toBe(before);
    expect(calls).toEqual([]);
  });

  it("a correctly signed capture replayed after PagerDuty's 48 h of retries is stale: 401", async () => {
    const { incident, pd } = await openBoth();
    const before = await snapshot(incident.id);
    const stale = new Date(NOW.getTime() - (48 * 3600 + 301) * 1000).toISOString();

    const answer = await post(delivery("incident.acknowledged", pd, { occurredAt: stale }));

    expect(answer.status).toBe(401);
    expect(answer.body.message).toMatch(/stale/);
    expect(await snapshot(incident.id)).toBe(before);
  });

  it("with no secret configured every delivery is 401", async () => {
    const { incident, pd } = await openBoth();
    deps.secrets = () => " , ";
    const answer = await post(delivery("incident.acknowledged", pd));
    expect(answer.status).toBe(401);
    expect((await store.get(incident.id))!.status).toBe("triggered");
  });

  it("signed but not JSON, or not a v3 payload: 400 naming the field", async () => {
    const { pd } = await openBoth();
    const sign = (body: string) => {
      const { headers } = delivery("incident.acknowledged", pd);
      return { body, headers: { ...headers, "x-pagerduty-signature": hmac(body) } };
    };
    expect(await post(sign("{not json"))).toMatchObject({
      status: 400,
      body: { error: "malformed_json" },
    });
    const wrong = await post(
      sign(JSON.stringify({ event: { id: "e1", event_type: "incident.acknowledged" } })),
    );
    expect(wrong).toMatchObject({ status: 400, body: { error: "invalid_payload" } });
    expect(wrong.body.message).toMatch(/^event\.occurred_at: /);
    expect(remembered).toEqual([]);
  });

  it("other event types and incidents tocsin did not open are 200 and ignored (a 4xx would count as a drop)", async () => {
    const { incident, pd } = await openBoth();
    const before = await snapshot(incident.id);

    const reassigned = await post(delivery("incident.reassigned", pd));
    pd.incidentKey = "someone else's key!";
    const foreign = await post(delivery("incident.acknowledged", pd));
    pd.incidentKey = "0b5c3c1e-unknown-to-tocsin";
    const unknown = await post(delivery("incident.acknowledged", pd));

    expect(reassigned).toEqual({ status: 200, body: { ignored: "incident.reassigned" } });
    expect(foreign).toEqual({ status: 200, body: { ignored: "not a tocsin incident" } });
    expect(unknown).toEqual({ status: 200, body: { ignored: "not a tocsin incident" } });
    expect(await snapshot(incident.id)).toBe(before);
  });
});

describe("POST /webhooks/pagerduty: no bounce", () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const serve = apiGatewayBridge(
      [
        {
          routeKey: "POST /webhooks/pagerduty",
          handler: (event, context) => handler()(event, context),
        },
      ],
      { error: () => undefined },
    );
    server = createServer((request, response) => void serve(request, response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/pagerduty`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("tocsin's own acknowledge, mirrored to PagerDuty, comes back as a webhook: 200 unchanged, nothing written, no second PUT", async () => {
    const { incident, pd } = await openBoth();
    // Acknowledged in Slack; the mirror tells PagerDuty (user mode's PUT status).
    await act(
      store,
      incident.id,
      { type: "acknowledge", actor: person("Erin Walsh (erin)") },
      NOW.toISOString(),
    );
    fake.subscribe({ url, secrets: [SECRET] });
    // The fake's echo happens now, on the real clock.
    deps.now = () => new Date();
    const before = await snapshot(incident.id);
    const requestsBefore = fake.requests.length;

    const mirrored = await pagerDutyNotifier({
      server: fake.server,
      ca: fake.ca,
      rest: { token: TOKEN },
    }).send(
      notification("pagerduty", {
        incident: (await store.get(incident.id))!,
        kind: "acknowledge",
        channelId: "pagerduty-people",
        channel: { type: "pagerduty", mode: "user", service: SERVICE, from: BOT.email },
        pagerDutyIncident: pd.id,
      }),
    );
    await fake.echoed();
    fake.subscribe(undefined);

    expect(mirrored.status).toBe("delivered");
    expect(fake.webhooks).toHaveLength(1);
    expect(fake.webhooks[0]).toMatchObject({
      type: "incident.acknowledged",
      status: 200,
      answer: { status: "unchanged" },
    });
    expect(await snapshot(incident.id)).toBe(before);
    expect(fake.requests.length).toBe(requestsBefore + 1);
    expect(calls).toEqual([]);
  });
});

function hmac(body: string): string {
  return `v1=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
}

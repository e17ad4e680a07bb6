import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Notification, Recipient } from "../../../functions/core/notification.js";
import { pagerDutyNotifier } from "../../../functions/integrations/pagerduty/notifier.js";
import { FakePagerDuty } from "../../support/fake-pagerduty.js";
import { freePort } from "../../support/free-port.js";
import { DMITRI, ERIN, GRACE_NO_SLACK, notification } from "../../support/notifications.js";

const TOKEN = "u+userModeToken-0123456789";
const BOT = { id: "PBOTUSR", email: "tocsin-bot@example.com", name: "tocsin bot" };
const SERVICE = "PWIXJZS";
const DMITRI_PD: Recipient = { ...DMITRI, pagerduty: "PDMITRI" };
const ERIN_PD: Recipient = { ...ERIN, pagerduty: "PERIN01" };
const CHANNEL = { type: "pagerduty", mode: "user", service: SERVICE, from: BOT.email } as const;

let fake: FakePagerDuty;
beforeAll(async () => {
  fake = await FakePagerDuty.start({
    account: {
      tokens: [TOKEN],
      users: [
        BOT,
        { id: "PDMITRI", email: "dmitri@example.com", name: "Dmitri Volkov" },
        { id: "PERIN01", email: "erin@example.com", name: "Erin Walsh" },
      ],
      services: [{ id: SERVICE, name: "ML training" }],
    },
  });
});
afterEach(() => {
  fake.reset();
  fake.rest.account.requestsPerMinute = 960;
});
afterAll(async () => {
  await fake.close();
});

function notifier(token = TOKEN, server?: string) {
  return pagerDutyNotifier({ server: server ?? fake.server, ca: fake.ca, rest: { token } });
}

const userMode = (overrides: Partial<Notification> = {}): Notification =>
  notification("pagerduty", {
    channelId: "pagerduty-people",
    channel: CHANNEL,
    recipients: [DMITRI_PD],
    ...overrides,
  });

const incidentId = () => notification("pagerduty").incident.id;

describe("PagerDuty user mode: the incident follows the levels' people", () => {
  it("level 1 opens the PagerDuty incident assigned to its person; level 2 reassigns it to the next", async () => {
    const first = await notifier().send(userMode());
    const pd = fake.incident(incidentId())!;

    expect(first).toEqual({
      status: "delivered",
      detail: `PagerDuty incident ${pd.id} opened on service ${SERVICE} and assigned to Dmitri Volkov (PDMITRI)`,
      providerId: pd.id,
      pagerDutyIncident: pd.id,
      perPerson: [
        {
          userId: "dmitri",
          status: "delivered",
          detail: `PagerDuty incident ${pd.id} assigned to Dmitri Volkov (PDMITRI)`,
        },
      ],
    });
    const create = fake.requests[0]!;
    expect(create.headers.from).toBe(BOT.email);
    expect(create.body).toMatchObject({
      incident: {
        type: "incident",
        title: "GPU 3 memory above 95% on trainer-7",
        service: { id: SERVICE, type: "service_reference" },
        urgency: "high",
        incident_key: incidentId(),
        body: { type: "incident_body" },
        assignments: [{ assignee: { id: "PDMITRI", type: "user_reference" } }],
      },
    });

    const second = await notifier().send(
      userMode({ kind: "escalate", level: 2, recipients: [ERIN_PD], pagerDutyIncident: pd.id }),
    );

    expect(second.status).toBe("delivered");
    expect(second.detail).toBe(`PagerDuty incident ${pd.id} assigned to Erin Walsh (PERIN01)`);
    expect(fake.requests.map((r) => [r.method, r.path, r.notified])).toEqual([
      ["POST", "/incidents", ["PDMITRI"]],
      ["GET", `/incidents/${pd.id}`, []],
      ["PUT", `/incidents/${pd.id}`, ["PERIN01"]],
    ]);
    expect(pd.assignmentHistory).toEqual([["PDMITRI"], ["PERIN01"]]);
    expect(fake.rest.incidents.size).toBe(1);
  });

  it("a level never reassigns an incident acknowledged in PagerDuty (that would trigger it again): not_delivered, the next person not paged", async () => {
    await notifier().send(userMode());
    const pd = fake.incident(incidentId())!;
    // Dmitri acknowledges in the PagerDuty app; its webhook has not reached tocsin yet.
    pd.status = "acknowledged";
    pd.acknowledgedBy = "PDMITRI";

    const second = await notifier().send(
      userMode({ kind: "escalate", level: 2, recipients: [ERIN_PD], pagerDutyIncident: pd.id }),
    );

    const detail = `PagerDuty incident ${pd.id} is acknowledged in PagerDuty: not reassigned (that would trigger it again)`;
    expect(second).toEqual({
      status: "not_delivered",
      detail,
      providerId: pd.id,
      pagerDutyIncident: pd.id,
      perPerson: [{ userId: "erin", status: "not_delivered", detail }],
    });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /incidents",
      `GET /incidents/${pd.id}`,
    ]);
    expect(pd.status).toBe("acknowledged");
    expect(pd.assignmentHistory).toEqual([["PDMITRI"]]);
  });

  it("a level of two people: created with the first (the API takes one), then both by PUT", async () => {
    const outcome = await notifier().send(userMode({ recipients: [DMITRI_PD, ERIN_PD] }));

    const pd = fake.incident(incidentId())!;
    expect(outcome.status).toBe("delivered");
    expect(pd.assignees).toEqual(["PDMITRI", "PERIN01"]);
    expect(fake.requests.map((r) => r.notified)).toEqual([["PDMITRI"], ["PERIN01"]]);
    expect(outcome.perPerson?.map((p) => p.userId)).toEqual(["dmitri", "erin"]);
  });

  it("a person without a PagerDuty id is not_delivered by name; with nobody to assign nothing is sent", async () => {
    const mixed = await notifier().send(userMode({ recipients: [DMITRI_PD, GRACE_NO_SLACK] }));
    expect(mixed.perPerson).toEqual([
      expect.objectContaining({ userId: "dmitri", status: "delivered" }),
      { userId: "grace", status: "not_delivered", detail: "no PagerDuty user id" },
    ]);
    expect(mixed.detail).toMatch(/; no PagerDuty user id for Grace Okafor \(grace\)$/);

    fake.reset();
    const none = await notifier().send(userMode({ recipients: [GRACE_NO_SLACK] }));
    expect(none).toEqual({
      status: "not_delivered",
      detail: "no PagerDuty user id for Grace Okafor (grace)",
      perPerson: [{ userId: "grace", status: "not_delivered", detail: "no PagerDuty user id" }],
    });
    expect(fake.requests).toHaveLength(0);
  });

  it("a retried create (the first got through, its answer was lost) finds the open incident: one incident", async () => {
    await notifier().send(userMode());
    const retried = await notifier().send(userMode());

    const pd = fake.incident(incidentId())!;
    expect(retried).toMatchObject({ status: "delivered", pagerDutyIncident: pd.id });
    expect(retried.detail).toBe(`PagerDuty incident ${pd.id} assigned to Dmitri Volkov (PDMITRI)`);
    expect(fake.requests.map((r) => [r.method, r.status])).toEqual([
      ["POST", 201],
      ["POST", 400],
      ["GET", 200],
    ]);
    expect(fake.rest.incidents.size).toBe(1);
    // Nobody was paged twice: the lookup found the same assignee.
    expect(fake.requests.flatMap((r) => r.notified ?? [])).toEqual(["PDMITRI"]);
  });

  it.each([
    ["acknowledge", "acknowledged"],
    ["resolve", "resolved"],
  ] as const)(
    "%s is a PUT of the status; repeating it is done (PagerDuty's 1001/1002)",
    async (kind, status) => {
      await notifier().send(userMode());
      const pd = fake.incident(incidentId())!;

      const mirrored = await notifier().send(userMode({ kind, pagerDutyIncident: pd.id }));
      const again = await notifier().send(userMode({ kind, pagerDutyIncident: pd.id }));

      expect(mirrored).toEqual({
        status: "delivered",
        detail: `PagerDuty incident ${pd.id} ${status}`,
        providerId: pd.id,
      });
      expect(again.status).toBe("delivered");
      expect(again.detail).toMatch(/^PagerDuty incident \S+ was already (acknowledged|resolved)$/);
      expect(pd.status).toBe(status);
      expect(fake.requests.at(-2)!.body).toEqual({
        incident: { type: "incident_reference", status },
      });
    },
  );

  it("a mirror without the PagerDuty incident's id looks it up by incident_key", async () => {
    await notifier().send(userMode());
    const outcome = await notifier().send(userMode({ kind: "resolve", pagerDutyIncident: null }));

    expect(outcome.status).toBe("delivered");
    expect(fake.incident(incidentId())!.status).toBe("resolved");
    expect(fake.requests.map((r) => r.method)).toEqual(["POST", "GET", "PUT"]);
  });
});

describe("PagerDuty user mode: PagerDuty's refusals", () => {
  it("401 (a wrong token) is final and never quotes the token", async () => {
    const wrong = "u+wrongToken-XYZ123456";
    const outcome = await notifier(wrong).send(userMode());

    expect(outcome).toEqual({
      status: "failed",
      detail:
        "PagerDuty answered 401 to open the PagerDuty incident: Authentication failed (code 2006)",
    });
    expect(JSON.stringify(outcome)).not.toContain(wrong);
  });

  it("1007 (an assignee PagerDuty does not know) is final, with no lookup", async () => {
    const outcome = await notifier().send(
      userMode({ recipients: [{ ...DMITRI, pagerduty: "PNOSUCH" }] }),
    );
    expect(outcome).toEqual({
      status: "failed",
      detail:
        "PagerDuty answered 400 to open the PagerDuty incident: Assigned To User Not Found (code 1007)",
    });
    expect(fake.requests).toHaveLength(1);
  });

  it("1008 (a From that is no PagerDuty user) is final", async () => {
    const outcome = await notifier().send(
      userMode({ channel: { ...CHANNEL, from: "ghost@example.com" } }),
    );
    expect(outcome.status).toBe("failed");
    expect(outcome.retryable).toBeUndefined();
    expect(outcome.detail).toMatch(/Requester User Not Found \(code 1008/);
  });

  it("404 on a reassignment (the PagerDuty incident is gone) is final", async () => {
    const outcome = await notifier().send(
      userMode({ kind: "escalate", level: 2, pagerDutyIncident: "QGONE000" }),
    );
    expect(outcome).toEqual({
      status: "failed",
      // Read before it is reassigned (one acknowledged in PagerDuty is left alone): gone.
      detail: "PagerDuty answered 404 to read PagerDuty incident QGONE000: Not Found (code 2100)",
    });
  });

  it("429 over the token's budget is retryable after ratelimit-reset, from one request", async () => {
    fake.rest.account.requestsPerMinute = 0;
    const outcome = await notifier().send(userMode());

    expect(outcome.status).toBe("failed");
    expect(outcome.retryable).toBe(true);
    expect(outcome.retryAfterMs).toBeGreaterThan(0);
    expect(outcome.retryAfterMs! % 1000).toBe(0);
    expect(outcome.detail).toMatch(
      /^PagerDuty answered 429 to open the PagerDuty incident \(rate limited, ratelimit-reset \d+ s\)$/,
    );
    expect(fake.requests).toHaveLength(1);
  });

  it("5xx and no answer are retryable", async () => {
    fake.failNext({ status: 502 });
    const busy = await notifier().send(userMode());
    expect(busy).toMatchObject({ status: "failed", retryable: true });

    const closed = await notifier(TOKEN, `127.0.0.1:${await freePort()}`).send(userMode());
    expect(closed).toMatchObject({ status: "failed", retryable: true });
    expect(closed.detail).toMatch(/^PagerDuty unreachable: /);
  });

  it("without a token, nothing is sent and the channel says no credentials", async () => {
    const outcome = await pagerDutyNotifier({ server: fake.server, ca: fake.ca }).send(userMode());
    expect(outcome).toMatchObject({ status: "not_delivered", reason: "no_credentials" });
    expect(fake.requests).toHaveLength(0);
  });
});

import { describe, expect, it } from "vitest";
import { scaledClock } from "../../../functions/adapters/clock.js";
import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { MemoryReplayGuard } from "../../../functions/adapters/memory/replay-guard.js";
import { scaledAfter } from "../../../functions/core/clock.js";
import { runEscalationStep } from "../../../functions/escalation/step.js";
import { rememberingGuard } from "../../support/handler-deps.js";
import { candidate, resolveAt } from "../../support/incidents.js";
import { fired } from "../../support/lifecycle.js";
import { logLines } from "../../support/log-lines.js";
import { slackClick } from "../../support/slack-click.js";
import {
  ALICE,
  baseConfig,
  click,
  DMITRI,
  ERIN,
  GRACE,
  handlerWith,
  NOW,
  OPENED,
  openIncident,
  post,
  RESPONSE_URL,
  replayRecords,
  responder,
  rotationOnly,
  runner,
  SECRET,
  STRANGER,
  signed,
  silent,
  slackStores,
  store,
  stored,
  WORKSPACE,
} from "../../support/slack-interactions.js";

/* Slack interactions through the middy handler, on the memory stores. */
slackStores(() => {
  const { guard, remembered } = rememberingGuard(new MemoryReplayGuard());
  return {
    store: new MemoryIncidentStore(),
    replayGuard: guard,
    replayRecords: async () => remembered,
  };
});

describe("POST /slack/interactions: the request log", () => {
  it("names the source and the incident the click acted on, never the signing secret", async () => {
    const incident = await openIncident();
    const lines = await logLines((logger) =>
      click(handlerWith({ logger }), { actionId: "acknowledge", value: incident.id }),
    );
    expect(lines.find((line) => line.event === "http_request")).toMatchObject({
      source: "slack",
      route: "POST /slack/interactions",
      status: 200,
      incidentId: incident.id,
    });
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });
});

describe("POST /slack/interactions: the signature", () => {
  const refusals: Array<
    [string, (id: string) => { body: string; headers: Record<string, string> }]
  > = [
    [
      "an unsigned request",
      (id) => {
        const { body } = slackClick({
          signingSecret: SECRET,
          actionId: "acknowledge",
          value: id,
          timestamp: NOW,
        });
        return { body, headers: { "content-type": "application/x-www-form-urlencoded" } };
      },
    ],
    [
      "a request signed with another secret",
      (id) =>
        slackClick({
          signingSecret: "forged",
          actionId: "acknowledge",
          value: id,
          timestamp: NOW,
        }),
    ],
    [
      "a request signed six minutes ago (a replay)",
      (id) =>
        slackClick({
          signingSecret: SECRET,
          actionId: "acknowledge",
          value: id,
          timestamp: new Date(NOW.getTime() - 6 * 60_000),
        }),
    ],
    [
      "a request signed six minutes ahead",
      (id) =>
        slackClick({
          signingSecret: SECRET,
          actionId: "acknowledge",
          value: id,
          timestamp: new Date(NOW.getTime() + 6 * 60_000),
        }),
    ],
    [
      "a signed request whose body was changed afterwards",
      (id) => {
        const original = slackClick({
          signingSecret: SECRET,
          actionId: "snooze",
          value: id,
          timestamp: NOW,
        });
        return { ...original, body: original.body.replace("snooze", "acknowledge") };
      },
    ],
  ];

  it.each(refusals)("refuses %s with 401 and changes nothing", async (_, build) => {
    // Prepare
    const incident = await openIncident();
    const before = await stored(incident.id);
    // Act
    const response = await post(handlerWith(), build(incident.id));
    // Assess
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: "unauthorized", message: expect.any(String) });
    expect(await stored(incident.id)).toEqual(before);
    expect(runner.calls).toEqual([]);
    expect(responder.said).toEqual([]);
  });

  it("accepts the same click when signed correctly (the refusals are about the signature)", async () => {
    // Prepare
    const incident = await openIncident();
    // Act
    const response = await click(handlerWith(), { actionId: "acknowledge", value: incident.id });
    // Assess
    expect(response.status).toBe(200);
    expect((await stored(incident.id)).status).toBe("acknowledged");
  });
});

describe("POST /slack/interactions: malformed interactions", () => {
  const payload = (id: string, change: (p: Record<string, unknown>) => void) => {
    const { payload: p } = slackClick({
      signingSecret: SECRET,
      actionId: "acknowledge",
      value: id,
      user: DMITRI,
      timestamp: NOW,
    });
    change(p);
    return `payload=${encodeURIComponent(JSON.stringify(p))}`;
  };
  const cases: Array<[string, (id: string) => string, string, RegExp]> = [
    ["a body that is not a form", () => "{}", "malformed_payload", /payload/],
    ["a form without `payload`", () => "type=block_actions", "malformed_payload", /payload/],
    ["a payload that is not JSON", () => "payload=%7Bnot%20json", "malformed_payload", /JSON/],
    [
      "a view_submission instead of block_actions",
      (id) => payload(id, (p) => Object.assign(p, { type: "view_submission" })),
      "invalid_payload",
      /block_actions/,
    ],
    [
      "a payload without user",
      (id) => payload(id, (p) => delete p.user),
      "invalid_payload",
      /user/,
    ],
    [
      "a payload without actions",
      (id) => payload(id, (p) => Object.assign(p, { actions: [] })),
      "invalid_payload",
      /actions/,
    ],
    [
      "an unknown action_id",
      (id) =>
        payload(id, (p) => {
          (p.actions as Array<Record<string, unknown>>)[0]!.action_id = "escalate_now";
        }),
      "invalid_action",
      /escalate_now/,
    ],
    [
      "a button without incident id",
      (id) =>
        payload(id, (p) => {
          delete (p.actions as Array<Record<string, unknown>>)[0]!.value;
        }),
      "invalid_action",
      /incident id/,
    ],
  ];

  it.each(cases)("answers 400 to %s and changes nothing", async (_, body, code, message) => {
    // Prepare
    const incident = await openIncident();
    const before = await stored(incident.id);
    // Act
    const response = await post(handlerWith(), signed(body(incident.id)));
    // Assess
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: code, message: expect.stringMatching(message) });
    expect(await stored(incident.id)).toEqual(before);
    expect(runner.calls).toEqual([]);
    expect(await replayRecords()).toEqual([]);
  });

  const lengths: Array<[string, string, (id: string) => string]> = [
    ["a snooze button with a length not offered", "snooze", (id) => `${id}|2h`],
    ["a snooze_longer option not offered", "snooze_longer", (id) => `${id}|forever`],
    ["a snooze_longer option of 0 minutes", "snooze_longer", (id) => `${id}|0m`],
    ["a snooze_longer option without incident id", "snooze_longer", () => "|1h"],
  ];
  const values: Array<[string, string, (id: string) => string]> = [
    ["an action value over 2 KB", "acknowledge", () => "i".repeat(2100)],
    ["a snooze_longer value over 2 KB", "snooze_longer", () => `${"i".repeat(2100)}|1h`],
    ["an incident id that is a path", "resolve", () => "../../incidents"],
    ["an incident id with markup", "acknowledge", () => "<!channel>"],
    ["a length on an Acknowledge button", "acknowledge", (id) => `${id}|1h`],
    ["a snooze value of three parts", "snooze_longer", (id) => `${id}|1h|x`],
  ];
  it.each(values)(
    "answers 400 to %s, naming the value, and changes nothing",
    async (_, actionId, value) => {
      // Prepare
      const incident = await openIncident();
      const before = await stored(incident.id);
      // Act
      const response = await click(handlerWith(), { actionId, value: value(incident.id) });
      // Assess
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        error: "invalid_action",
        message: expect.stringMatching(/^actions\.0\.value: /),
      });
      expect(await stored(incident.id)).toEqual(before);
      expect(runner.calls).toEqual([]);
      expect(responder.said).toEqual([]);
      expect(await replayRecords()).toEqual([]);
    },
  );

  it.each(lengths)("answers 400 to %s and changes nothing", async (_, actionId, value) => {
    // Prepare
    const incident = await openIncident();
    const before = await stored(incident.id);
    // Act
    const response = await click(handlerWith(), { actionId, value: value(incident.id) });
    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error).toBe("invalid_action");
    expect(await stored(incident.id)).toEqual(before);
    expect(runner.calls).toEqual([]);
    expect(await replayRecords()).toEqual([]);
  });
});

describe("POST /slack/interactions: acknowledge and resolve", () => {
  it("acknowledges for the clicker, stops the escalation and mirrors the change", async () => {
    // Prepare
    const incident = await openIncident();
    // Act
    const response = await click(handlerWith(), { actionId: "acknowledge", value: incident.id });
    // Assess
    expect(response).toEqual({
      status: 200,
      body: {
        ok: true,
        outcome: "done",
        message: "Acknowledged by Dmitri Volkov (dmitri) at 09:30 UTC.",
      },
    });
    const after = await stored(incident.id);
    expect(after).toMatchObject({
      status: "acknowledged",
      acknowledgedBy: "Dmitri Volkov (dmitri)",
      acknowledgedAt: NOW.toISOString(),
      resolvedBy: null,
    });
    expect(after.timeline.at(-1)).toEqual({
      at: NOW.toISOString(),
      type: "acknowledged",
      via: "slack",
      actor: "Dmitri Volkov (dmitri)",
    });
    expect(runner.calls).toEqual([
      ["stop", incident.id, 0],
      ["mirror", incident.id, "acknowledge"],
    ]);
    expect(responder.said).toEqual([{ responseUrl: RESPONSE_URL, text: response.body.message }]);
  });

  it("answers the click when the note cannot be handed over, and when there is nowhere to send it", async () => {
    // Prepare
    const first = await openIncident();
    const second = await openIncident();
    const refusing = { tell: async () => Promise.reject(new Error("Lambda throttled")) };
    // Act
    const handedOver = await click(handlerWith({ responder: refusing }), {
      actionId: "acknowledge",
      value: first.id,
    });
    const { payload } = slackClick({
      signingSecret: SECRET,
      actionId: "acknowledge",
      value: second.id,
      user: DMITRI,
      timestamp: NOW,
    });
    delete payload.response_url;
    const nowhere = await post(
      handlerWith(),
      signed(`payload=${encodeURIComponent(JSON.stringify(payload))}`),
    );
    // Assess
    expect([handedOver.body.outcome, nowhere.body.outcome]).toEqual(["done", "done"]);
    expect((await stored(first.id)).status).toBe("acknowledged");
    expect((await stored(second.id)).status).toBe("acknowledged");
    expect(responder.said).toEqual([]);
  });

  it("keeps the acknowledgement when the escalation engine fails, and says so", async () => {
    // Prepare
    const incident = await openIncident();
    const failing = {
      ...runner,
      mirror: async () => Promise.reject(new Error("states unreachable")),
    };
    // Act
    const response = await click(handlerWith({ escalation: failing }), {
      actionId: "acknowledge",
      value: incident.id,
    });
    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: true, outcome: "done" });
    expect(response.body.message).toMatch(/escalation engine did not answer/);
    expect((await stored(incident.id)).status).toBe("acknowledged");
  });

  it("warns when a snooze cannot be rescheduled", async () => {
    const incident = await openIncident();
    const failing = {
      ...runner,
      resume: async () => Promise.reject(new Error("states unreachable")),
    };
    const response = await click(handlerWith({ escalation: failing }), {
      actionId: "snooze",
      value: incident.id,
    });
    expect(response.body.message).toMatch(/could not be rescheduled/);
  });

  it("names a clicker tocsin does not know by Slack name and id", async () => {
    // Prepare
    const incident = await openIncident();
    // Act
    await click(handlerWith(), { actionId: "acknowledge", value: incident.id, user: STRANGER });
    // Assess
    expect((await stored(incident.id)).acknowledgedBy).toBe("ada (Slack U024BE7LH)");
  });

  it("answers a second Acknowledge politely with who acknowledged, and changes nothing", async () => {
    // Prepare
    const incident = await openIncident();
    const handler = handlerWith();
    await click(handler, { actionId: "acknowledge", value: incident.id, user: DMITRI });
    const before = await stored(incident.id);
    runner.calls.length = 0;
    responder.said.length = 0;
    // Act
    const response = await click(handler, {
      actionId: "acknowledge",
      value: incident.id,
      user: ERIN,
    });
    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      ok: false,
      outcome: "conflict",
      message:
        "Nothing changed: this incident is already acknowledged by Dmitri Volkov (dmitri) at 09:30 UTC.",
    });
    expect(await stored(incident.id)).toEqual(before);
    expect(runner.calls).toEqual([]);
    // Only the click that acted is remembered.
    expect(await replayRecords()).toHaveLength(1);
    expect(responder.said).toEqual([{ responseUrl: RESPONSE_URL, text: response.body.message }]);
  });

  it.each(["acknowledge", "resolve", "snooze"])(
    "never undoes a resolve: %s on a resolved incident is a conflict that changes nothing",
    async (actionId) => {
      // Prepare: the alert resolved at 09:28.
      const incident = await openIncident();
      await store.resolveFingerprint(incident, resolveAt("2026-11-30T09:28:00.000Z"));
      const before = await stored(incident.id);
      // Act
      const response = await click(handlerWith(), { actionId, value: incident.id });
      // Assess
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        ok: false,
        outcome: "conflict",
        message: "Nothing changed: this incident is already resolved by alertmanager at 09:28 UTC.",
      });
      expect(await stored(incident.id)).toEqual(before);
      expect(before.status).toBe("resolved");
      expect(runner.calls).toEqual([]);
      expect(await replayRecords()).toEqual([]);
    },
  );

  it("resolves an acknowledged incident, keeping who acknowledged, and frees its fingerprint", async () => {
    // Prepare
    const incident = await openIncident();
    const handler = handlerWith();
    await click(handler, { actionId: "acknowledge", value: incident.id, user: DMITRI });
    runner.calls.length = 0;
    // Act
    const response = await click(handler, { actionId: "resolve", value: incident.id, user: ERIN });
    // Assess
    expect(response.body).toEqual({
      ok: true,
      outcome: "done",
      message: "Resolved by Erin Walsh (erin) at 09:30 UTC.",
    });
    const after = await stored(incident.id);
    expect(after).toMatchObject({
      status: "resolved",
      acknowledgedBy: "Dmitri Volkov (dmitri)",
      resolvedBy: "Erin Walsh (erin)",
      resolvedAt: NOW.toISOString(),
    });
    expect(after.timeline.map((e) => [e.type, e.actor])).toEqual([
      ["triggered", "alertmanager"],
      ["acknowledged", "Dmitri Volkov (dmitri)"],
      ["resolved", "Erin Walsh (erin)"],
    ]);
    expect(runner.calls).toEqual([
      ["stop", incident.id, 0],
      ["mirror", incident.id, "resolve"],
    ]);
    // The alert firing again is a new incident, not a duplicate of the resolved one.
    const again = await fired(store, candidate(incident.fingerprint, "2026-11-30T09:40:00.000Z"));
    expect(again.created).toBe(true);
  });

  it("resolves a triggered incident at once", async () => {
    // Prepare
    const incident = await openIncident();
    // Act
    const response = await click(handlerWith(), { actionId: "resolve", value: incident.id });
    // Assess
    expect(response.body.outcome).toBe("done");
    expect(await stored(incident.id)).toMatchObject({
      status: "resolved",
      acknowledgedBy: null,
      resolvedBy: "Dmitri Volkov (dmitri)",
    });
    expect(runner.calls).toEqual([
      ["stop", incident.id, 0],
      ["mirror", incident.id, "resolve"],
    ]);
  });

  it("answers a click on an incident tocsin does not have with not_found", async () => {
    // Act
    const response = await click(handlerWith(), { actionId: "acknowledge", value: "inc-gone" });
    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: false, outcome: "not_found" });
    expect(runner.calls).toEqual([]);
    expect(await store.get("inc-gone")).toBeNull();
    expect(await replayRecords()).toEqual([]);
  });
});

describe("POST /slack/interactions: snooze", () => {
  const lengths: Array<[string, number, string, (id: string) => string]> = [
    ["the Snooze button (30 min)", 1800, "snooze", (id) => id],
    ["the Snooze button naming 30m", 1800, "snooze", (id) => `${id}|30m`],
    ["Snooze 1 h from the menu", 3600, "snooze_longer", (id) => `${id}|1h`],
    ["Snooze 4 h from the menu", 14_400, "snooze_longer", (id) => `${id}|4h`],
  ];

  it.each(lengths)("%s pauses the escalation for %i s", async (_, seconds, actionId, value) => {
    // Prepare
    const incident = await openIncident();
    const until = new Date(NOW.getTime() + seconds * 1000).toISOString();
    // Act
    const response = await click(handlerWith(), { actionId, value: value(incident.id) });
    // Assess
    expect(response.body).toEqual({
      ok: true,
      outcome: "done",
      message: `Snoozed by Dmitri Volkov (dmitri) until ${until.slice(11, 16)} UTC; escalation resumes then.`,
    });
    const after = await stored(incident.id);
    expect(after).toMatchObject({ status: "triggered", snoozedUntil: until });
    expect(after.timeline.at(-1)).toEqual({
      at: NOW.toISOString(),
      type: "snoozed",
      actor: "Dmitri Volkov (dmitri)",
      detail: `escalation paused until ${until}`,
    });
    expect(runner.calls).toEqual([
      ["stop", incident.id, 0],
      ["resume", incident.id, 1, until, "1"],
    ]);
  });

  it("divides the wait by the time scale, like every other delay", async () => {
    // Prepare
    const incident = await openIncident();
    // Act
    await click(handlerWith({ after: scaledAfter(60) }), {
      actionId: "snooze_longer",
      value: `${incident.id}|1h`,
    });
    // Assess
    expect(runner.calls).toEqual([
      ["stop", incident.id, 0],
      ["resume", incident.id, 1, new Date(NOW.getTime() + 60_000).toISOString(), "1"],
    ]);
  });

  it("resumes at the level reached", async () => {
    // Prepare: the escalation has reached its second level.
    const incident = await openIncident();
    const claimedAt = "2026-11-30T09:29:00.000Z";
    const claim = await store.apply(incident.id, {
      guard: { status: ["triggered"], stepUnclaimed: 2, noSnoozeAt: claimedAt },
      claimStep: 2,
      set: { escalationStep: 2, level: 2 },
    });
    expect(claim.applied).toBe(true);
    // Act
    await click(handlerWith(), { actionId: "snooze", value: incident.id });
    // Assess
    expect(runner.calls).toEqual([
      ["stop", incident.id, 0],
      ["resume", incident.id, 2, new Date(NOW.getTime() + 1_800_000).toISOString(), "1"],
    ]);
  });

  it.each([
    ["a double click on Snooze", "snooze", (id: string) => id, DMITRI],
    ["someone else's Snooze 1 h", "snooze_longer", (id: string) => `${id}|1h`, ERIN],
  ])(
    "answers %s while snoozed with who snoozed until when, and changes nothing",
    async (_, actionId, value, user) => {
      // Prepare: Dmitri snoozed for 30 minutes, at 09:30.
      const incident = await openIncident();
      const handler = handlerWith();
      await click(handler, { actionId: "snooze", value: incident.id });
      const before = await stored(incident.id);
      runner.calls.length = 0;
      responder.said.length = 0;
      // Act: a second click ten seconds later (another request, signed anew).
      const response = await click(handler, {
        actionId,
        value: value(incident.id),
        user,
        signedAt: new Date(NOW.getTime() + 10_000),
      });
      // Assess
      expect(response).toEqual({
        status: 200,
        body: {
          ok: false,
          outcome: "conflict",
          message:
            "Nothing changed: this incident is already snoozed by Dmitri Volkov (dmitri) until 10:00 UTC.",
        },
      });
      expect(await stored(incident.id)).toEqual(before);
      expect(runner.calls).toEqual([]);
      expect(responder.said).toEqual([{ responseUrl: RESPONSE_URL, text: response.body.message }]);
    },
  );

  it("snoozes again once the snooze is over", async () => {
    // Prepare: a 30-minute snooze at 09:30, over at 10:00.
    const incident = await openIncident();
    await click(handlerWith(), { actionId: "snooze", value: incident.id });
    const later = new Date(NOW.getTime() + 31 * 60_000);
    // Act
    const response = await click(handlerWith({ now: () => later }), {
      actionId: "snooze",
      value: incident.id,
      signedAt: later,
    });
    // Assess
    expect(response.body.outcome).toBe("done");
    expect((await stored(incident.id)).timeline.filter((e) => e.type === "snoozed")).toHaveLength(
      2,
    );
  });

  it("is a conflict on an acknowledged incident and changes nothing", async () => {
    // Prepare
    const incident = await openIncident();
    const handler = handlerWith();
    await click(handler, { actionId: "acknowledge", value: incident.id });
    const before = await stored(incident.id);
    runner.calls.length = 0;
    // Act
    const response = await click(handler, { actionId: "snooze", value: incident.id, user: ERIN });
    // Assess
    expect(response.body).toMatchObject({
      ok: false,
      outcome: "conflict",
      message: expect.stringContaining("already acknowledged by Dmitri Volkov (dmitri)"),
    });
    expect(await stored(incident.id)).toEqual(before);
    expect(runner.calls).toEqual([]);
  });

  it("is refused on an incident that does not escalate", async () => {
    // Prepare
    const incident = await openIncident({ severity: "warning", escalation: null });
    const before = await stored(incident.id);
    // Act
    const response = await click(handlerWith(), { actionId: "snooze", value: incident.id });
    // Assess
    expect(response.body).toMatchObject({ ok: false, outcome: "refused" });
    expect(response.body.message).toMatch(/nothing to snooze/);
    expect(await stored(incident.id)).toEqual(before);
    expect(runner.calls).toEqual([]);
  });

  it.each([1, 60, 600])(
    "at time scale %i, the resumed step finds the snooze over and pages the level reached again",
    async (timeScale) => {
      // Prepare: level 1 paged at once (step 0), then a 30-minute snooze.
      const incident = await openIncident();
      const escalation = {
        store,
        config: baseConfig,
        runbooks: [],
        notifiers: {},
        logger: silent,
        clock: scaledClock(timeScale),
      };
      const opened = new Date(OPENED);
      await runEscalationStep(escalation, { incidentId: incident.id, step: 0 }, () => opened);
      await click(handlerWith({ after: scaledAfter(timeScale) }), {
        actionId: "snooze",
        value: incident.id,
      });
      const resume = runner.calls.find((c) => c[0] === "resume") as [
        "resume",
        string,
        number,
        string,
        string,
      ];
      const [, , step, dueAt] = resume;
      // Act: the resumed execution runs its step once its wait is over, as the engine does.
      const resumedAt = new Date(Date.parse(dueAt) + 100);
      const output = await runEscalationStep(
        escalation,
        { incidentId: incident.id, step },
        () => resumedAt,
      );
      // Assess: level 1 paged again (PagerDuty), the snooze cleared, level 2 one gap later.
      const after = await stored(incident.id);
      expect(after.snoozedUntil).toBeNull();
      const pagesAfterSnooze = after.timeline.filter(
        (e) => e.channel === "pagerduty" && e.at === resumedAt.toISOString(),
      );
      expect(pagesAfterSnooze.map((e) => [e.type, e.level])).toEqual([["notified", 1]]);
      expect(output).toEqual({
        incidentId: incident.id,
        step: 2,
        done: false,
        waitSeconds: Math.ceil((15 * 60) / timeScale),
        dueAt: new Date(resumedAt.getTime() + (15 * 60 * 1000) / timeScale).toISOString(),
      });
    },
  );
});

describe("POST /slack/interactions: who may click", () => {
  const workspaces: Array<[string, string | null]> = [
    ["another workspace", "T0OTHER01"],
    ["no workspace at all", null],
  ];
  it.each(workspaces)(
    "with SLACK_TEAM_ID set, refuses a click from %s and changes nothing",
    async (_, teamId) => {
      // Prepare
      const incident = await openIncident();
      const before = await stored(incident.id);
      // Act
      const response = await click(handlerWith({ teamId: WORKSPACE }), {
        actionId: "acknowledge",
        value: incident.id,
        teamId,
      });
      // Assess
      expect(response).toEqual({ status: 200, body: { ok: false, outcome: "refused" } });
      expect(await stored(incident.id)).toEqual(before);
      expect(runner.calls).toEqual([]);
      expect(await replayRecords()).toEqual([]);
      expect(responder.said).toEqual([
        {
          responseUrl: RESPONSE_URL,
          text: expect.stringMatching(/another Slack workspace/),
        },
      ]);
    },
  );

  it("with SLACK_TEAM_ID set, accepts a click from that workspace", async () => {
    // Prepare
    const incident = await openIncident();
    // Act
    const response = await click(handlerWith({ teamId: WORKSPACE }), {
      actionId: "acknowledge",
      value: incident.id,
      teamId: WORKSPACE,
    });
    // Assess
    expect(response.body.outcome).toBe("done");
    expect((await stored(incident.id)).status).toBe("acknowledged");
  });

  const people: Array<[string, boolean, { id: string; username: string }]> = [
    ["a rotation member", true, DMITRI],
    ["the other rotation member", true, ERIN],
    ["the team's manager", true, GRACE],
    ["another team's on-call", false, ALICE],
    ["a stranger", false, STRANGER],
  ];
  it.each(people)("with responders: rotation, %s may acknowledge: %s", async (_, allowed, user) => {
    // Prepare
    const incident = await openIncident();
    const before = await stored(incident.id);
    // Act
    const response = await click(handlerWith({ config: rotationOnly }), {
      actionId: "acknowledge",
      value: incident.id,
      user,
    });
    // Assess
    expect(response.status).toBe(200);
    if (allowed) {
      expect(response.body.outcome).toBe("done");
      expect((await stored(incident.id)).status).toBe("acknowledged");
      return;
    }
    expect(response.body).toEqual({
      ok: false,
      outcome: "refused",
      message: "Only the responders of team ml-training may act on this incident.",
    });
    expect(await stored(incident.id)).toEqual(before);
    expect(runner.calls).toEqual([]);
    expect(await replayRecords()).toEqual([]);
    expect(responder.said).toEqual([{ responseUrl: RESPONSE_URL, text: response.body.message }]);
  });
});

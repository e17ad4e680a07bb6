/**
 * Behaviour pins (issue 12, WP0): what tocsin does, seen only through surfaces issue 12
 * keeps (startLocalServer's options, the HTTP routes, a signed Slack click, a middleware on
 * `dynamoClient`, `onStateEntered`, the requests the fakes record), written down as exact
 * values: DynamoDB requests by operation and key kind (FP fingerprint item, INC incident
 * item, SEEN replay record), the states the engine enters, the PagerDuty events and Slack
 * calls per level, and the routes' answers. A reshaping that changes no behaviour leaves
 * this file green and unedited; one that saves a request edits the pin that says so.
 *
 * Config: the shipped tocsin.yaml, team ml-training (critical: Slack #incidents, email and
 * the standard policy, levels at 0/15/30/60 min). Who is primary on call depends on the
 * week: level 1 is one of the rotation, level 2 the other. Each window is bounded by engine
 * events where nothing else runs: a Task's requests end before its Done? Choice, a Wait
 * makes none, and an action's writes end before it starts the next execution.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackCall } from "../support/fake-slack.js";
import { type LocalWithFakes, startLocalWithFakes } from "../support/local-with-fakes.js";
import { waitUntil } from "../support/poll-until.js";
import { slackClick } from "../support/slack-click.js";

const WEBHOOK = "pins-webhook-token";
const API = "pins-api-token";
const SIGNING_SECRET = "pins-slack-signing-secret";
const WORKSPACE = "T024BE7LD";
const DMITRI = { id: "U0DMITRI1", username: "dmitri.v" }; // ml-training: may act on its incidents
const ROTATION = ["U0DMITRI1", "U0ERIN001"]; // ml-training's primary and secondary, by week
const BUTTONS = "acknowledge,resolve,snooze,snooze_longer";

/** One level's Task: read the incident with its fingerprint's live counters, claim, record. */
const STEP = "BatchGetItem FP, GetItem INC, 2 UpdateItem INC";
/** A new incident and its level 1 (the webhook's claim, put and commit, then the Task). */
const OPENED_AND_LEVEL_1 =
  "BatchGetItem FP, GetItem INC, PutItem INC, 2 UpdateItem FP, 2 UpdateItem INC";
/** A Slack click that changes the incident: replay record, read, incident, fingerprint. */
const CLICK = "BatchGetItem FP, GetItem INC, PutItem SEEN, UpdateItem FP, UpdateItem INC";
const START = "Start, resume or mirror?";
const WAIT = "Wait for next level";
const TO_FIRST_WAIT = `${START} → Escalate → Done? → ${WAIT}`;
const MIRROR = `${START} → Mirror state change → Stopped`;
const LISTED =
  "acknowledgedAt acknowledgedBy annotations channels createdAt dashboardUrl delay escalationBaseAt escalationPolicy escalationStep fingerprint generatorUrl id labels lastSeenAt level occurrences resolvedAt resolvedBy runbook severity silenceUrl slackMessages snoozedUntil source startedAt status team title";
/** Sorted, space-separated JSON keys, with more added. */
const withKeys = (keys: string, more: string) =>
  [...keys.split(" "), ...more.split(" ")].sort().join(" ");
/** GET /incidents/{id}: the listed keys and the detail's own. */
const DETAIL = withKeys(LISTED, "imageUrl ruleId timeline truncatedAlerts valueText values");

interface Point {
  log: number;
  pagerDuty: number;
  slack: number;
}
type Entry = { request: string } | ({ incidentId: string; state: string } & Point);
type Answer = { status: number; body: Record<string, unknown> };
const keysOf = (body: object) => Object.keys(body).sort().join(" ");

/** "Operation KIND" of a DynamoDB request, from the JSON body it sends (KIND: pk prefix or index). */
function requestLabel(command: string | undefined, body: unknown): string {
  type Key = { pk?: { S?: string } };
  const text = body instanceof Uint8Array ? new TextDecoder().decode(body) : String(body);
  const input = JSON.parse(text) as {
    Key?: Key;
    Item?: Key;
    IndexName?: string;
    RequestItems?: Record<string, { Keys?: Key[] }>;
  };
  const batch = Object.values(input.RequestItems ?? {}).flatMap((r) => r.Keys ?? []);
  const keys = [input.Key, input.Item, ...batch].flatMap((k) => (k ? [k] : []));
  const kinds = [...new Set(keys.map((k) => String(k.pk?.S).split("#")[0]))];
  return `${command?.replace(/Command$/, "")} ${kinds.join("+") || input.IndexName || "table"}`;
}

/** A local server with its fakes, and what it did in order: requests and states entered. */
class Pinned {
  readonly log: Entry[] = [];
  fakes!: LocalWithFakes;
  private readonly listeners = new Set<() => void>();

  static async start(timeScale: number): Promise<Pinned> {
    const pinned = new Pinned();
    pinned.fakes = await startLocalWithFakes({
      ...{ webhookToken: WEBHOOK, apiToken: API, timeScale },
      slack: { signingSecret: SIGNING_SECRET, teamId: WORKSPACE },
      onStateEntered: (incidentId, state) => pinned.push({ incidentId, state, ...pinned.point() }),
    });
    pinned.fakes.local.dynamoClient.middlewareStack.add(
      (next, context) => async (args) => {
        const { body } = args.request as { body?: unknown };
        pinned.push({ request: requestLabel(context.commandName, body) });
        return next(args);
      },
      { step: "build", name: "behaviourPins", override: true },
    );
    return pinned;
  }

  point(): Point {
    const fakes = this.fakes as LocalWithFakes | undefined;
    const [pagerDuty, slack] = [fakes?.pagerDuty.requests.length, fakes?.slack.calls.length];
    return { log: this.log.length, pagerDuty: pagerDuty ?? 0, slack: slack ?? 0 };
  }

  private push(entry: Entry) {
    this.log.push(entry);
    for (const listener of this.listeners) listener();
  }

  /** Resolves, when incident `id` enters `state` for the `nth` time, with where the log stood. */
  entered(id: string, state: string, nth = 1): Promise<Point> {
    return new Promise((resolve, reject) => {
      const why = () => `${id} did not enter ${state} ×${nth}: ${this.states(id)}`;
      const timer = setTimeout(() => reject(new Error(why())), 20_000);
      const check = () => {
        const all = this.log.filter(
          (e) => "state" in e && e.incidentId === id && e.state === state,
        );
        if (all.length < nth) return;
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve(all[nth - 1] as Point);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** The states incident `id` entered (all its executions), from `from` on, joined by →. */
  states(id: string, from: Point = { log: 0, pagerDuty: 0, slack: 0 }): string {
    const entries = this.log.slice(from.log);
    const states = entries.flatMap((e) => ("state" in e && e.incidentId === id ? [e.state] : []));
    return states.join(" → ");
  }

  /** Requests between two points, by label in alphabetical order ("2 UpdateItem FP, …"). */
  requests(from: Point, to: Point = this.point()): string {
    const counts = new Map<string, number>();
    for (const e of this.log.slice(from.log, to.log))
      if ("request" in e) counts.set(e.request, (counts.get(e.request) ?? 0) + 1);
    const sorted = [...counts].sort(([a], [b]) => a.localeCompare(b));
    return sorted.map(([label, n]) => (n === 1 ? label : `${n} ${label}`)).join(", ") || "none";
  }

  /**
   * What happened between two points: the DynamoDB requests, the PagerDuty events ("action
   * severity summary", each answered 202 with the incident's key) and the Slack Web API calls
   * ("method [thread] channel [buttons] text", each answered 200; private notes apart).
   */
  seen(id: string, from: Point, to: Point = this.point()) {
    const events = this.fakes.pagerDuty.requests.slice(from.pagerDuty, to.pagerDuty);
    const calls = this.fakes.slack.calls.slice(from.slack, to.slack);
    return {
      requests: this.requests(from, to),
      pagerDuty: events.map((r) => {
        const event = r.body as { event_action: string; dedup_key: string; payload?: object };
        const { severity, summary } = (event.payload ?? {}) as Record<string, string>;
        expect([r.status, event.dedup_key]).toEqual([202, id]);
        return [event.event_action, severity, summary].filter(Boolean).join(" ");
      }),
      slack: calls.filter((c) => c.method !== "response_url" && !isDm(c)).map(slackLine),
      // The people's own Slack DMs (issue 13), apart: sent beside the channel posts, in
      // parallel with them. Only when there are any.
      ...(calls.some(isDm) ? { dms: calls.filter(isDm).map(slackLine) } : {}),
    };
  }

  get channel(): string {
    return this.fakes.slack.channelId("#incidents");
  }

  notes(): string[] {
    return this.fakes.slack.notesTo(DMITRI.id).map((note) => String(note.text));
  }

  async http(path: string, init: RequestInit = {}): Promise<Answer> {
    const response = await fetch(`${this.fakes.local.url}${path}`, init);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  deliver(job: string, severity: string, status: "firing" | "resolved", episode = "09:00") {
    const labels = { alertname: "TrainingNaNLoss", job, severity, team: "ml-training" };
    const alert = { status, labels, annotations: { summary: `loss is NaN on ${job}` } };
    const alerts = [{ ...alert, startsAt: `2026-11-30T${episode}:00Z` }];
    return this.http("/webhooks/alertmanager", {
      method: "POST",
      headers: { authorization: `Bearer ${WEBHOOK}`, "content-type": "application/json" },
      body: JSON.stringify({ version: "4", status, alerts }),
    });
  }

  read(path: string) {
    return this.http(path, { headers: { authorization: `Bearer ${API}` } });
  }

  /** Dmitri clicks `actionId` on the incident's message; `send` sends the same request again. */
  async click(actionId: string, id: string, signingSecret = SIGNING_SECRET) {
    const { channel } = this;
    const responseUrl = this.fakes.slack.responseUrl({ user: DMITRI.id, channel });
    const { headers, body } = slackClick({
      ...{ signingSecret, actionId, value: id, user: DMITRI, teamId: WORKSPACE },
      ...{ channelId: channel, timestamp: new Date(), responseUrl },
    });
    const send = () => this.http("/slack/interactions", { method: "POST", headers, body });
    return { answer: await send(), send };
  }
}

/** Checks a webhook's 202 and its keys; answers "status deduplicated" of its one incident. */
function accepted({ status, body }: Answer): string {
  const [incident] = body.incidents as Array<Record<string, unknown>>;
  const answer = `${status} ${keysOf(body)}: ${keysOf(incident!)}`;
  expect(answer).toBe("202 accepted incidents: deduplicated id status");
  return `${incident!.status}${incident!.deduplicated ? " deduplicated" : ""}`;
}
const idOf = (answer: Answer) => (answer.body.incidents as Array<{ id: string }>)[0]!.id;
/** A Slack route's answer: "status keys: ok outcome-or-error". */
const clickAnswer = ({ status, body }: Answer) =>
  `${status} ${keysOf(body)}: ${body.ok} ${body.outcome ?? body.error}`;
const message = (verb: string) =>
  new RegExp(`^${verb} by Dmitri Volkov \\(dmitri\\) (at|until) \\d\\d:\\d\\d UTC`);
const title = (job: string) => `loss is NaN on ${job} (ml-training)`;
const mentionIn = (post: string | undefined) => /<@(U\w+)>$/.exec(post ?? "")?.[1] ?? "";
/** The fake Slack's DM channel with a user (U0ERIN001: D0ERIN001). */
const dm = (user: string) => `D${user.slice(1)}`;
/** A person's first DM of an incident: opened, then the message with the buttons. */
const firstDm = (job: string, user: string) => [
  `conversations.open ${user}`,
  `chat.postMessage ${dm(user)} [${BUTTONS}] [CRITICAL] ${title(job)} <@${user}>`,
];
let jobs = 0;
const nextJob = () => `pins-${++jobs}`;

/** A call about a person's direct message: opening it, or a post or update in a `D…` channel. */
const isDm = (c: SlackCall) =>
  c.method === "conversations.open" || String(c.args.channel ?? "").startsWith("D");

/** "method [thread] channel [buttons] text" (conversations.open: the user it opens). */
function slackLine(c: SlackCall): string {
  expect(c.status).toBe(200);
  if (c.method === "conversations.open") return `conversations.open ${c.args.users}`;
  const blocks = (c.args.blocks ?? []) as Array<{ type: string; elements?: object[] }>;
  const buttons = blocks
    .filter((b) => b.type === "actions")
    .flatMap((b) => (b.elements ?? []) as Array<{ action_id: string }>)
    .map((e) => e.action_id);
  const thread = c.args.thread_ts ? " thread" : "";
  return `${c.method}${thread} ${c.args.channel} [${buttons}] ${c.args.text}`;
}

describe("behaviour pins, ×60: levels 15 s apart, so no level races an action", () => {
  let p: Pinned;
  beforeAll(async () => {
    p = await Pinned.start(60);
  }, 60_000);
  afterAll(() => p?.fakes.close());

  it("an info alert's life (recorded only, no escalation) and the read API over it", async () => {
    const job = nextJob();
    // what | status | episode | DynamoDB requests | the incident answered
    const life = [
      "new incident | firing | 09:00 | PutItem INC, 2 UpdateItem FP | triggered",
      "duplicate | firing | 09:00 | UpdateItem FP | triggered deduplicated",
      "resolve | resolved | 09:00 | UpdateItem FP, UpdateItem INC | resolved deduplicated",
      "resolve again | resolved | 09:00 | GetItem FP, GetItem INC, UpdateItem FP, UpdateItem INC | resolved deduplicated",
      "late firing | firing | 09:00 | GetItem FP, UpdateItem FP | resolved deduplicated",
      // One write more than a new fingerprint's (issue 11): the last incident resolved, guarded,
      // in case its resolve was cut short between its two writes (a no-op here, as it was).
      "new episode | firing | 10:00 | PutItem INC, 2 UpdateItem FP, UpdateItem INC | triggered",
    ].map((row) => row.split(" | "));
    const ids: string[] = [];
    for (const [what, status, episode, requests, answer] of life) {
      const from = p.point();
      const delivered = await p.deliver(job, "info", status as "firing", episode);
      expect([what, p.requests(from), accepted(delivered)]).toEqual([what, requests, answer]);
      ids.push(idOf(delivered));
    }
    const [resolved, open] = [ids[0]!, ids[5]!];
    expect([p.states(resolved), p.states(open)]).toEqual(["", ""]);
    expect([p.fakes.pagerDuty.requests.length, p.fakes.slack.calls.length]).toEqual([0, 0]);

    let from = p.point();
    const list = await p.read("/incidents");
    const listed = [list.status, keysOf(list.body), p.requests(from)];
    expect(listed).toEqual([200, "incidents nextCursor", "BatchGetItem FP, Query byTime"]);
    // Listed, the open incident has truncatedAlerts (its live counters); the resolved one not.
    const items = (list.body.incidents as Array<{ id: string }>).map((i) => [i.id, keysOf(i)]);
    expect(items).toEqual([
      [open, withKeys(LISTED, "truncatedAlerts")],
      [resolved, LISTED],
    ]);
    for (const [id, requests] of [
      [open, "BatchGetItem FP, GetItem INC"],
      [resolved, "GetItem INC"],
    ]) {
      from = p.point();
      const { status, body } = await p.read(`/incidents/${id}`);
      expect([status, keysOf(body), p.requests(from)]).toEqual([200, DETAIL, requests]);
    }
  });

  it("critical, resolved by Alertmanager after its first page", async () => {
    const job = nextJob();
    const from = p.point();
    const fired = await p.deliver(job, "critical", "firing");
    const id = idOf(fired);
    const waiting = await p.entered(id, WAIT);
    expect(accepted(fired)).toBe("triggered");
    const level1 = p.seen(id, from, waiting);
    const primary = mentionIn(level1.slack[0]);
    expect(ROTATION).toContain(primary);
    expect(level1).toEqual({
      requests: OPENED_AND_LEVEL_1,
      pagerDuty: [`trigger critical loss is NaN on ${job}`],
      slack: [`chat.postMessage #incidents [${BUTTONS}] [CRITICAL] ${title(job)} <@${primary}>`],
      dms: firstDm(job, primary),
    });

    let at = p.point();
    const duplicate = accepted(await p.deliver(job, "critical", "firing"));
    expect([duplicate, p.requests(at)]).toEqual(["triggered deduplicated", "UpdateItem FP"]);

    at = p.point();
    const resolve = await p.deliver(job, "critical", "resolved");
    const mirror = await p.entered(id, START, 2);
    const stopped = await p.entered(id, "Stopped");
    await p.fakes.local.escalation.idle();
    expect(accepted(resolve)).toBe("resolved deduplicated");
    const requests = "UpdateItem FP, UpdateItem INC";
    expect(p.seen(id, at, mirror)).toEqual({ requests, pagerDuty: [], slack: [] });
    expect(p.seen(id, mirror)).toEqual({
      requests: "GetItem INC, UpdateItem INC",
      pagerDuty: ["resolve"],
      slack: [`chat.update ${p.channel} [] [RESOLVED] ${title(job)}`],
      dms: [`chat.update ${dm(primary)} [] [RESOLVED] ${title(job)}`],
    });
    expect(p.requests(stopped)).toBe("none");
    expect(p.states(id)).toBe(`${TO_FIRST_WAIT} → ${MIRROR}`);

    // Repeated and late deliveries start nothing (the mirror's name has run) and tell nobody.
    for (const [status, requests] of [
      ["resolved", "GetItem FP, GetItem INC, UpdateItem FP, UpdateItem INC"],
      ["firing", "GetItem FP, UpdateItem FP"],
    ] as const) {
      at = p.point();
      const late = await p.deliver(job, "critical", status);
      await p.fakes.local.escalation.idle();
      expect([accepted(late), p.states(id, at)]).toEqual(["resolved deduplicated", ""]);
      expect(p.seen(id, at)).toEqual({ requests, pagerDuty: [], slack: [] });
    }
  });

  it("critical, acknowledged in Slack after level 1, then resolved in Slack", async () => {
    const job = nextJob();
    const from = p.point();
    const id = idOf(await p.deliver(job, "critical", "firing"));
    const primary = mentionIn(p.seen(id, from, await p.entered(id, WAIT)).slack[0]);
    // action | note's verb | the mirror's requests | the message's buttons and state | a replay's requests
    const clicks = [
      "acknowledge | Acknowledged | BatchGetItem FP, GetItem INC, UpdateItem INC | [resolve] [ACKNOWLEDGED] | BatchGetItem FP, GetItem INC, GetItem SEEN",
      "resolve | Resolved | GetItem INC, UpdateItem INC | [] [RESOLVED] | GetItem INC, GetItem SEEN",
    ].map((row) => row.split(" | "));
    for (const [n, [action, verb, mirrored, update, replayed]] of clicks.entries()) {
      const at = p.point();
      const { answer, send } = await p.click(action!, id);
      const mirror = await p.entered(id, START, n + 2);
      const stopped = await p.entered(id, "Stopped", n + 1);
      await p.fakes.local.escalation.idle();
      await waitUntil(() => p.notes().length === n + 1, "the private note", 10_000);
      expect(clickAnswer(answer)).toBe("200 message ok outcome: true done");
      expect(answer.body.message).toMatch(message(verb!));
      expect(p.notes()[n]).toBe(answer.body.message);
      expect(p.seen(id, at, mirror)).toEqual({ requests: CLICK, pagerDuty: [], slack: [] });
      expect(p.seen(id, mirror)).toEqual({
        requests: mirrored,
        pagerDuty: [action],
        slack: [`chat.update ${p.channel} ${update} ${title(job)}`],
        dms: [`chat.update ${dm(primary)} ${update} ${title(job)}`],
      });
      expect(p.requests(stopped)).toBe("none");

      // The same signed request again: the state has moved on, so the replay record is read
      // (not written) and the copy refused; nothing is written, nobody told. (A resolved
      // incident is read without its fingerprint's live counters.)
      const replay = p.point();
      const again = await send();
      await p.fakes.local.escalation.idle();
      expect([clickAnswer(again), p.states(id, replay)]).toEqual([
        "409 error message: undefined replayed_request",
        "",
      ]);
      expect(p.seen(id, replay)).toEqual({
        requests: replayed,
        pagerDuty: [],
        slack: [],
      });
    }
    expect(p.states(id)).toBe(`${TO_FIRST_WAIT} → ${MIRROR} → ${MIRROR}`);

    const forged = p.point();
    const { answer } = await p.click("acknowledge", id, "not-the-signing-secret");
    expect([clickAnswer(answer), p.requests(forged)]).toEqual([
      "401 error message: undefined unauthorized",
      "none",
    ]);
  });
});

describe("behaviour pins, ×600: the standard policy's levels at 0, 1.5, 3 and 6 s", () => {
  let p: Pinned;
  beforeAll(async () => {
    p = await Pinned.start(600);
  }, 60_000);
  afterAll(() => p?.fakes.close());

  /** Level ≥ 2 in Slack: a reply in the thread naming the level's person, the message updated. */
  const escalated = (level: number, job: string, user: string) => [
    `chat.postMessage thread ${p.channel} [] :arrow_double_up: Escalated to level ${level}: <@${user}>, please take a look.`,
    `chat.update ${p.channel} [${BUTTONS}] [CRITICAL] ${title(job)} <@${user}>`,
  ];

  it("critical, untouched to the end: one PagerDuty trigger (the service's policy pages from there), each level one Slack post", async () => {
    const job = nextJob();
    const from = p.point();
    const id = idOf(await p.deliver(job, "critical", "firing"));
    const waits: Point[] = [];
    for (const nth of [1, 2, 3]) waits.push(await p.entered(id, WAIT, nth));
    await p.fakes.local.escalation.idle();
    const levels = [p.seen(id, from, waits[0]), p.seen(id, waits[0]!, waits[1])];
    levels.push(p.seen(id, waits[1]!, waits[2]), p.seen(id, waits[2]!));
    const primary = mentionIn(levels[0]!.slack[0]);
    expect(ROTATION).toContain(primary);
    const secondary = ROTATION.find((user) => user !== primary)!;
    const trigger = [`trigger critical loss is NaN on ${job}`];
    expect(levels).toEqual([
      {
        requests: OPENED_AND_LEVEL_1,
        pagerDuty: trigger,
        slack: [`chat.postMessage #incidents [${BUTTONS}] [CRITICAL] ${title(job)} <@${primary}>`],
        dms: firstDm(job, primary),
      },
      ...[secondary, "U0GRACE01", "U0VICTORI"].map((user, i) => ({
        requests: STEP,
        pagerDuty: [],
        slack: escalated(i + 2, job, user),
        dms: firstDm(job, user),
      })),
    ]);
    const again = `Escalate → Done? → ${WAIT}`;
    expect(p.states(id)).toBe(
      `${TO_FIRST_WAIT} → ${again} → ${again} → Escalate → Done? → Stopped`,
    );
  });

  it("critical, snoozed in Slack after level 3: nothing during the snooze, then level 3 again", async () => {
    // Clicked as soon as level 3 is recorded: level 4 is 3 s away, the widest gap of the
    // policy (a 30 min snooze is 3 s too).
    const job = nextJob();
    const id = idOf(await p.deliver(job, "critical", "firing"));
    await p.entered(id, WAIT, 3);
    const at = p.point();
    const { answer } = await p.click("snooze", id);
    const resumed = await p.entered(id, START, 2);
    const snoozing = await p.entered(id, WAIT, 4);
    const repaged = await p.entered(id, WAIT, 5);
    await p.fakes.local.escalation.close();
    expect(clickAnswer(answer)).toBe("200 message ok outcome: true done");
    expect(answer.body.message).toMatch(message("Snoozed"));
    // The click's writes (no fingerprint: a snooze keeps the status), then a Wait: nothing else.
    const requests = "BatchGetItem FP, GetItem INC, PutItem SEEN, UpdateItem INC";
    expect(p.seen(id, at, snoozing)).toEqual({ requests, pagerDuty: [], slack: [] });
    expect(p.requests(resumed, snoozing)).toBe("none");
    // Level 3 again: its people and the thread; the PagerDuty service heard it at level 1.
    // Grace's second DM is a new message, without buttons: her first keeps them.
    expect(p.seen(id, snoozing, repaged)).toEqual({
      requests: STEP,
      pagerDuty: [],
      slack: escalated(3, job, "U0GRACE01"),
      dms: [
        "conversations.open U0GRACE01",
        `chat.postMessage ${dm("U0GRACE01")} [] [CRITICAL] ${title(job)} <@U0GRACE01>`,
      ],
    });
    expect(p.states(id, at)).toBe(`${START} → ${WAIT} → Escalate → Done? → ${WAIT}`);
  });
});

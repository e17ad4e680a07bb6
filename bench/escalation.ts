import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Logger } from "@aws-lambda-powertools/logger";
import { loadServiceFiles } from "../functions/adapters/config-file.js";
import type { IncidentWithTimeline } from "../functions/core/incident.js";
import { escalationDefinition } from "../functions/escalation/local-engine.js";
import { startLocalServer } from "../functions/local/server.js";
import { FakePagerDuty } from "../test/support/fake-pagerduty.js";
import { FakeSlack } from "../test/support/fake-slack.js";
import { isPagerDutyChannel, pagerDutyPerLevel } from "../test/support/pagerduty-per-level.js";
import { alertmanagerDelivery } from "./alerts.js";
import { FetchClient } from "./http-client.js";
import { median } from "./throughput.js";

/** Step Functions Standard workflows, us-east-1 list price (aws.amazon.com/step-functions/pricing). */
export const PRICE_PER_1000_TRANSITIONS = 0.025;
export const PRICE_REGION = "us-east-1";

const CONFIG_FILE = "tocsin.yaml";
const SEVERITY = "critical";
const WEBHOOK_TOKEN = "bench-escalation-webhook";
const API_TOKEN = "bench-escalation-api";
const SLACK_TOKEN = "xoxb-bench";
const ROUTING_KEY = "0123456789abcdef0123456789abcdef";
/** Grace after the last level is due before the bench gives up on the executions. */
const END_GRACE_MS = 15_000;

interface StateDefinition {
  Type: string;
  Next?: string;
  Parameters?: { action?: string };
}

/** The states the bench tells apart, by their role in the definition rather than by name. */
function machineShape() {
  const definition = escalationDefinition() as unknown as {
    StartAt: string;
    States: Record<string, StateDefinition>;
  };
  const states = Object.entries(definition.States);
  const task = (action: string) =>
    states.find(([, s]) => s.Type === "Task" && s.Parameters?.action === action);
  const step = task("step");
  const mirror = task("mirror");
  // The level's wait, which leads to the step (not the wait before a failed step's retry).
  const wait = states.find(([, s]) => s.Type === "Wait" && s.Next === step?.[0]);
  if (!step?.[1].Next || !mirror?.[1].Next || !wait)
    throw new Error("the escalation definition has no step Task, mirror Task or Wait");
  return {
    typeOf: new Map(states.map(([name, s]) => [name, s.Type])),
    task: step[0],
    afterTask: step[1].Next,
    wait: wait[0],
    failure: task("failure")?.[0],
    mirror: [definition.StartAt, mirror[0], mirror[1].Next],
  };
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export interface LevelPunctuality {
  level: number;
  /** The level's offset from the incident's creation, in policy minutes. */
  offsetMinutes: number;
  /** The same offset on this run's clock (offset / time scale), in ms. */
  dueAfterMs: number;
  /** Incidents that paged this level. */
  samples: number;
  /** ms late, the step's decision: its `escalated` timeline event (levels ≥ 2). */
  decided: Spread | null;
  /** ms late, the page: the PagerDuty fake received the trigger for this level. */
  paged: Spread | null;
  /** ms late, the record: the step's `notified` pagerduty event (after all its deliveries). */
  recorded: Spread | null;
  /** ms the Escalate Task of this level took (state entered → Done? entered). */
  taskMs: Spread | null;
  /** ms the engine's Wait before this level overran its whole seconds (levels ≥ 2). */
  waitOverrunMs: Spread | null;
  /** Whole seconds the Wait before this level lasted (levels ≥ 2). */
  waitSeconds: number[];
}

export interface TransitionCost {
  /** Billable state transitions per incident: every state entered (no Task retried). */
  transitions: number;
  usdPerIncident: number;
  usdPer1000Incidents: number;
}

export interface EscalationRun {
  timeScale: number;
  /** Critical incidents left to escalate through every level, fired at once. */
  incidents: number;
  escalating: TransitionCost & {
    statesPerIncident: Spread;
    /** Every incident entered the same states in the same order. */
    identical: boolean;
    /** The states one incident's execution entered, in order. */
    states: string[];
    /** The same by state type (Choice, Task, Wait, Succeed). */
    byType: Record<string, number>;
    /** The Choice states among them (they bill like any other state). */
    choiceStates: string[];
  };
  /** One critical incident resolved as soon as its first page was recorded (fired first). */
  resolvedAtOnce: TransitionCost & {
    /** The escalation execution's states until it was aborted in its first Wait. */
    escalationStates: string[];
    /** The mirror execution (PagerDuty resolve, Slack message update). */
    mirrorStates: string[];
  };
  punctuality: LevelPunctuality[];
  traffic: {
    pagerDutyRequests: number;
    pagerDutyTriggers: number;
    pagerDutyResolves: number;
    slackPosts: number;
    slackThreadReplies: number;
    slackUpdates: number;
  };
  /** 1-minute load average before and after the run (other work on the machine skews timing). */
  loadAverage: { before: number; after: number };
  anomalies: string[];
  seconds: number;
}

interface Entered {
  state: string;
  /** performance.now() when the engine entered the state. */
  at: number;
}

interface PageEvent {
  dedup_key?: string;
  event_action?: string;
  payload?: { custom_details?: { level?: number } };
}

/** Timings to 0.1 ms, prices to 6 significant digits: the JSON shows no float noise. */
const tenth = (n: number) => Math.round(n * 10) / 10;
const price = (n: number) => Number(n.toPrecision(6));

const spread = (values: readonly number[]): Spread | null =>
  values.length === 0
    ? null
    : {
        min: tenth(Math.min(...values)),
        median: tenth(median(values)),
        max: tenth(Math.max(...values)),
      };

const costOf = (transitions: number): TransitionCost => ({
  transitions,
  usdPerIncident: price((transitions * PRICE_PER_1000_TRANSITIONS) / 1000),
  usdPer1000Incidents: price(transitions * PRICE_PER_1000_TRANSITIONS),
});

/** Resolves true when `promise` settles within `ms`, false otherwise. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    sleep(ms, false, { signal: timer.signal }).catch(() => false),
  ]);
  timer.abort();
  return settled;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(2);
  }
  return true;
}

/** Per level k (1-based): when the engine entered the k-th Escalate, its Done?, and the Wait before it. */
function taskTimings(
  entered: readonly Entered[],
  shape: { task: string; afterTask: string; wait: string },
) {
  const levels: Array<{ task: number; done?: number; waitStart?: number }> = [];
  let lastWait: number | undefined;
  entered.forEach((e, i) => {
    if (e.state === shape.wait) lastWait = e.at;
    if (e.state !== shape.task) return;
    const done = entered.slice(i + 1).find((next) => next.state === shape.afterTask)?.at;
    levels.push({
      task: e.at,
      ...(done !== undefined ? { done } : {}),
      ...(lastWait !== undefined ? { waitStart: lastWait } : {}),
    });
    lastWait = undefined;
  });
  return levels;
}

/**
 * One run of the shipped critical escalation on the local engine at `timeScale`, with
 * fake Slack and PagerDuty. First one critical incident is resolved as soon as its first
 * page is recorded (this also warms the notifier paths); then `incidents` critical alerts
 * for ml-training fire at once and are left alone until the policy is exhausted. Counts
 * the states every execution entered and how late each level paged.
 */
export async function measureEscalation(options: {
  timeScale: number;
  incidents: number;
  log: (line: string) => void;
}): Promise<EscalationRun> {
  const { timeScale, incidents } = options;
  const started = performance.now();
  const loadBefore = loadavg()[0]!;
  const anomalies: string[] = [];
  const note = (text: string) => anomalies.push(`×${timeScale}: ${text}`);
  // The shipped tocsin.yaml with a PagerDuty service per level: a service is alerted once per
  // incident, so only this way does every level make a request the fake can time.
  const { runbooks } = loadServiceFiles(CONFIG_FILE);
  const config = pagerDutyPerLevel();
  const severity = config.severities[SEVERITY];
  const policy = severity?.escalation ? config.escalationPolicies[severity.escalation] : undefined;
  if (!severity || !policy) throw new Error(`${CONFIG_FILE}: ${SEVERITY} has no escalation`);
  if (policy.repeat !== 0) throw new Error(`${CONFIG_FILE}: the bench expects no repeats`);
  /** Seconds from creation to each level. */
  const offsets = policy.levels.map((level) => severity.delay + level.after);
  const dueAfterMs = (level: number) => (offsets[level - 1]! * 1000) / timeScale;
  const shape = machineShape();
  const { typeOf } = shape;

  const slack = await FakeSlack.start({ token: SLACK_TOKEN });
  const pagerDuty = await FakePagerDuty.start();
  const entered = new Map<string, Entered[]>();
  const local = await startLocalServer({
    config,
    runbooks,
    host: "127.0.0.1",
    port: 0,
    dataDir: ":memory:",
    webhookToken: WEBHOOK_TOKEN,
    apiToken: API_TOKEN,
    timeScale,
    notifiers: {
      slack: { token: SLACK_TOKEN, apiUrl: slack.apiUrl },
      pagerDuty: { routingKey: ROUTING_KEY, server: pagerDuty.server, ca: pagerDuty.ca },
    },
    onStateEntered: (incidentId, state) => {
      const list = entered.get(incidentId) ?? [];
      list.push({ state, at: performance.now() });
      entered.set(incidentId, list);
    },
    logger: new Logger({ serviceName: "tocsin", logLevel: "ERROR" }),
  });
  const http = new FetchClient(local.url);
  // The fakes and the engine time with performance.now(); incidents are dated by Date.now().
  const wallOffset = Date.now() - (performance.timeOrigin + performance.now());
  const wallClock = (at: number) => performance.timeOrigin + at + wallOffset;
  const statesOf = (id: string) => (entered.get(id) ?? []).map((e) => e.state);

  try {
    const fire = async (key: string, status: "firing" | "resolved") => {
      const answer = await http.post(
        "/webhooks/alertmanager",
        WEBHOOK_TOKEN,
        alertmanagerDelivery(key, status),
      );
      const body = answer.body as { incidents?: Array<{ id: string }> } | null;
      const id = body?.incidents?.[0]?.id;
      if (answer.status !== 202 || !id) throw new Error(`${key} ${status}: HTTP ${answer.status}`);
      return id;
    };
    const lastDue = dueAfterMs(offsets.length);
    options.log(
      `escalation ×${timeScale}: 1 critical incident resolved after its first page, then ${incidents} left to escalate through ${offsets.length} levels (~${Math.ceil(lastDue / 1000)} s) ...`,
    );

    // 1. Resolved "right after the first page": once its execution is parked in the first Wait.
    const resolvedKey = `resolve-${timeScale}`;
    const resolvedId = await fire(resolvedKey, "firing");
    if (!(await until(() => statesOf(resolvedId).includes(shape.wait), 10_000)))
      note("the resolved incident's escalation never reached its first Wait");
    const escalationStates = statesOf(resolvedId);
    await fire(resolvedKey, "resolved");
    if (!(await until(() => statesOf(resolvedId).length >= escalationStates.length + 3, 10_000)))
      note("the resolved incident's mirror execution did not finish");
    const mirrorStates = statesOf(resolvedId).slice(escalationStates.length);

    // 2. An alert storm nobody answers: every level fires, then the policy is exhausted.
    const keys = Array.from({ length: incidents }, (_, i) => `escalate-${timeScale}-${i}`);
    const ids = await Promise.all(keys.map((key) => fire(key, "firing")));
    if (!(await within(local.escalation.idle(), lastDue + END_GRACE_MS)))
      note(`executions still running ${lastDue + END_GRACE_MS} ms after the alerts fired`);

    const read = async (id: string) => {
      const answer = await http.get(`/incidents/${id}`, API_TOKEN);
      if (answer.status !== 200) throw new Error(`GET /incidents/${id}: HTTP ${answer.status}`);
      return answer.body as IncidentWithTimeline;
    };
    const escalated = await Promise.all(ids.map(read));
    const resolved = await read(resolvedId);

    // States: the same sequence for every untouched incident, and never a failure path.
    const sequences = ids.map(statesOf);
    const reference = sequences[0] ?? [];
    const identical = sequences.every((s) => s.join("\n") === reference.join("\n"));
    if (!identical)
      note(
        `incidents entered different states (counts ${sequences.map((s) => s.length).join(", ")})`,
      );
    const byType: Record<string, number> = {};
    for (const state of reference) {
      const type = typeOf.get(state) ?? "?";
      byType[type] = (byType[type] ?? 0) + 1;
    }
    for (const state of new Set([...sequences.flat(), ...escalationStates, ...mirrorStates]))
      if (typeOf.get(state) === "Fail" || state === shape.failure)
        note(`an execution entered "${state}"`);
    if (escalationStates.join() !== reference.slice(0, 4).join())
      note(`the resolved incident's escalation entered [${escalationStates.join(", ")}]`);
    if (mirrorStates.join() !== shape.mirror.join())
      note(`the mirror execution entered [${mirrorStates.join(", ")}]`);
    const lengths = sequences.map((s) => s.length);

    // Pages: one trigger per level and incident, none for the resolved one after its resolve.
    const pages = pagerDuty.requests.filter((r) => r.status === 202);
    const eventOf = (r: (typeof pages)[number]) => r.body as PageEvent;
    if (pagerDuty.requests.length > pages.length)
      note(`the PagerDuty fake refused ${pagerDuty.requests.length - pages.length} requests`);
    const rows = offsets.map(() => ({
      decided: [] as number[],
      paged: [] as number[],
      recorded: [] as number[],
      taskMs: [] as number[],
      waitOverrunMs: [] as number[],
      waitSeconds: [] as number[],
    }));
    for (const incident of escalated) {
      const created = Date.parse(incident.createdAt);
      const short = incident.id.slice(0, 8);
      const triggers = pages.filter(
        (r) => eventOf(r).dedup_key === incident.id && eventOf(r).event_action === "trigger",
      );
      const timings = taskTimings(entered.get(incident.id) ?? [], shape);
      for (let level = 1; level <= offsets.length; level++) {
        const due = created + dueAfterMs(level);
        const row = rows[level - 1]!;
        const paged = triggers.filter((r) => eventOf(r).payload?.custom_details?.level === level);
        if (paged.length !== 1) note(`${short} level ${level} was paged ${paged.length} times`);
        for (const page of paged) {
          const late = wallClock(page.at) - due;
          row.paged.push(late);
          if (late < 0) note(`${short} level ${level} paged ${(-late).toFixed(1)} ms early`);
        }
        const lateness = (type: string, pagerDutyOnly = false) =>
          incident.timeline
            .filter((e) => e.type === type && e.level === level)
            .filter((e) => !pagerDutyOnly || isPagerDutyChannel(e.channel))
            .map((e) => Date.parse(e.at) - due);
        row.recorded.push(...lateness("notified", true));
        if (level > 1) row.decided.push(...lateness("escalated"));
        const timing = timings[level - 1];
        if (timing?.done !== undefined) row.taskMs.push(timing.done - timing.task);
        if (timing?.waitStart !== undefined) {
          const waited = timing.task - timing.waitStart;
          const whole = Math.floor((waited + 50) / 1000);
          row.waitSeconds.push(whole);
          row.waitOverrunMs.push(waited - whole * 1000);
        }
      }
      const levels = incident.timeline.filter((e) => e.type === "escalated").map((e) => e.level);
      const expected = offsets.slice(1).map((_, i) => i + 2);
      if (levels.join() !== expected.join())
        note(`${short} escalated to levels [${levels.join()}], not [${expected.join()}]`);
      const exhausted = incident.timeline.filter((e) => e.type === "exhausted").length;
      if (exhausted !== 1) note(`${short} has ${exhausted} exhausted events`);
      if (incident.status !== "triggered" || incident.level !== offsets.length)
        note(`${short} ended ${incident.status} at level ${incident.level}`);
      for (const e of incident.timeline.filter((e) => e.type === "notification_failed"))
        note(`${short} notification_failed on ${e.channel}: ${e.detail}`);
    }
    const told = (incident: IncidentWithTimeline) =>
      incident.timeline
        .filter((e) => e.type === "notified")
        .map((e) => `${e.level}:${e.channel}:${e.detail?.split(":")[0]}`)
        .sort();
    const signatures = new Set(escalated.map((i) => told(i).join(",")));
    if (signatures.size > 1)
      note(`incidents differ in what was notified: ${[...signatures].join(" | ")}`);
    for (const incident of escalated) {
      const list = told(incident);
      const repeated = list.filter((entry, i) => list.indexOf(entry) !== i);
      if (repeated.length)
        note(`${incident.id.slice(0, 8)} notified twice: ${repeated.join(", ")}`);
    }

    const resolvedPages = pages.map(eventOf).filter((e) => e.dedup_key === resolvedId);
    const summary = resolvedPages.map((e) =>
      e.event_action === "trigger"
        ? `trigger L${e.payload?.custom_details?.level}`
        : e.event_action,
    );
    if (summary.join() !== "trigger L1,resolve")
      note(`the resolved incident's PagerDuty events were [${summary.join(", ")}]`);
    if (resolved.status !== "resolved") note(`the resolved incident ended ${resolved.status}`);
    if (resolved.timeline.some((e) => e.type === "escalated"))
      note("the resolved incident escalated after its resolve");

    // Channel posts (people's direct messages, D… channels, apart).
    const posts = slack
      .callsTo("chat.postMessage")
      .filter((c) => c.status === 200 && !String(c.args.channel).startsWith("D"));
    const threadReplies = posts.filter((c) => c.args.thread_ts !== undefined).length;
    const traffic = {
      pagerDutyRequests: pagerDuty.requests.length,
      pagerDutyTriggers: pages.filter((r) => eventOf(r).event_action === "trigger").length,
      pagerDutyResolves: pages.filter((r) => eventOf(r).event_action === "resolve").length,
      slackPosts: posts.length - threadReplies,
      slackThreadReplies: threadReplies,
      slackUpdates: slack.callsTo("chat.update").length,
    };
    const replies = incidents * (offsets.length - 1);
    if (traffic.slackPosts !== incidents + 1 || threadReplies !== replies)
      note(
        `Slack got ${traffic.slackPosts} posts and ${threadReplies} thread replies, not ${incidents + 1} and ${replies}`,
      );

    return {
      timeScale,
      incidents,
      escalating: {
        ...costOf(Math.max(0, ...lengths)),
        statesPerIncident: spread(lengths) ?? { min: 0, median: 0, max: 0 },
        identical,
        states: reference,
        byType,
        choiceStates: [...new Set(reference.filter((state) => typeOf.get(state) === "Choice"))],
      },
      resolvedAtOnce: {
        ...costOf(escalationStates.length + mirrorStates.length),
        escalationStates,
        mirrorStates,
      },
      punctuality: offsets.map((offset, i) => {
        const row = rows[i]!;
        return {
          level: i + 1,
          offsetMinutes: offset / 60,
          dueAfterMs: dueAfterMs(i + 1),
          samples: row.paged.length,
          decided: spread(row.decided),
          paged: spread(row.paged),
          recorded: spread(row.recorded),
          taskMs: spread(row.taskMs),
          waitOverrunMs: spread(row.waitOverrunMs),
          waitSeconds: [...new Set(row.waitSeconds)].sort((a, b) => a - b),
        };
      }),
      traffic,
      loadAverage: { before: loadBefore, after: loadavg()[0]! },
      anomalies,
      seconds: tenth((performance.now() - started) / 1000),
    };
  } finally {
    http.close();
    await local.close();
    await slack.close();
    await pagerDuty.close();
  }
}

import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ActionResult, takeIncidentAction } from "../../../functions/app/incident-actions.js";
import { scaledAfter } from "../../../functions/core/clock.js";
import type { Config } from "../../../functions/core/config.js";
import type { EscalationRunner } from "../../../functions/core/escalation-runner.js";
import type { IncidentWithTimeline, TimelineEvent } from "../../../functions/core/incident.js";
import type { IncidentStore } from "../../../functions/core/incident-store.js";
import type { IncidentUpdate } from "../../../functions/core/incident-update.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { type EscalationDeps, runEscalationStep } from "../../../functions/escalation/step.js";
import { describeSlackUser } from "../../../functions/integrations/slack/users.js";
import { candidate, resolveAt } from "../incidents.js";
import { fired } from "../lifecycle.js";

/**
 * Acknowledge, resolve, snooze, escalation steps and resolved alerts, interleaved at random
 * (some of them at once) against a real store: whatever the order, a resolve
 * is final, an acknowledgement or a resolve stops the escalation, and the incident's fields
 * agree with its timeline.
 */

const OPENED = new Date("2026-11-30T09:00:00.000Z");
const silent = new Logger({ serviceName: "tocsin-property", logLevel: "SILENT" });
const tocsin = parseConfig(readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"));
// Only ml-training's people may act, so refused clicks are part of the mix.
const config: Config = {
  ...tocsin,
  teams: {
    ...tocsin.teams,
    "ml-training": { ...tocsin.teams["ml-training"]!, responders: "rotation" },
  },
};
const USERS = [
  { id: "U0DMITRI1", name: "dmitri" },
  { id: "U0ERIN001", name: "erin" },
  { id: "U0GRACE01", name: "grace" },
  { id: "U024BE7LH", name: "stranger" },
] as const;
const STRANGER = "U024BE7LH";

type User = (typeof USERS)[number];
type Move =
  | { kind: "acknowledge" | "resolve"; user: User }
  | { kind: "snooze"; user: User; seconds: number }
  /** `stall`: the Task is slow between reading the incident and claiming; in a pair, its partner finishes first. */
  | { kind: "step"; retry: boolean; stall: boolean }
  | { kind: "alert_resolved" };
type Op = { after: number; moves: [Move] | [Move, Move] };

const userArb = fc.constantFrom(...USERS);
const stepArb: fc.Arbitrary<Move> = fc.record({
  kind: fc.constant("step" as const),
  retry: fc.boolean(),
  stall: fc.boolean(),
});
const actionArb: fc.Arbitrary<Move> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("acknowledge" as const), user: userArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("resolve" as const), user: userArb }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant("snooze" as const),
      user: userArb,
      seconds: fc.constantFrom(1800, 3600, 14_400),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("alert_resolved" as const) }), weight: 1 },
);
const moveArb = fc.oneof({ arbitrary: stepArb, weight: 5 }, { arbitrary: actionArb, weight: 6 });
/** A move, or two at once; `after`: minutes since the previous op (steps are not due at once). */
const opArb: fc.Arbitrary<Op> = fc.record({
  after: fc.integer({ min: 0, max: 40 }),
  moves: fc.oneof(
    { arbitrary: fc.tuple(moveArb), weight: 3 },
    { arbitrary: fc.tuple(moveArb, moveArb), weight: 1 },
    // The races that matter most: an escalation step against a click or a resolved alert.
    { arbitrary: fc.tuple(stepArb, actionArb), weight: 2 },
  ),
});

/** One store write, numbered from when it was asked to when it answered. */
interface Write {
  kind: "claim" | "acknowledged" | "resolved" | "snoozed" | "alert_resolved";
  start: number;
  end: number;
  ok: boolean;
  level?: number;
}

/** The store, noting when each state-changing write started and ended, and whether it won. */
type RecordingStore = IncidentStore & { readonly writes: Write[] };

function recording(store: IncidentStore): RecordingStore {
  const writes: Write[] = [];
  let clock = 0;
  const apply = store.apply.bind(store);
  const resolveFingerprint = store.resolveFingerprint.bind(store);
  return Object.assign(store, {
    writes,
    /**
     * Every guarded change goes through apply (the store's own claims too, which call it on
     * the store): claims and clicks are noted (records are not).
     */
    async apply(...args: Parameters<IncidentStore["apply"]>) {
      const [, update] = args;
      const kind: Write["kind"] | undefined =
        update.claimStep !== undefined
          ? "claim"
          : (["acknowledged", "resolved", "snoozed"] as const).find(
              (type) => update.append?.[0]?.type === type,
            );
      const start = ++clock;
      const outcome = await apply(...args);
      // A claim notes the level it asks for; a click, the level it left.
      const level = kind === "claim" ? update.set?.level : outcome.incident?.level;
      if (kind) writes.push({ kind, start, end: ++clock, ok: outcome.applied, level });
      return outcome;
    },
    async resolveFingerprint(candidate: IncidentWithTimeline, update: IncidentUpdate) {
      const start = ++clock;
      const outcome = await resolveFingerprint(candidate, update);
      writes.push({ kind: "alert_resolved", start, end: ++clock, ok: true });
      return outcome;
    },
  });
}

let runs = 0;

/** Plays `ops` on a new critical incident, as Slack clicks, Step Functions and Alertmanager would. */
async function play(ops: Op[], makeStore: () => IncidentStore) {
  const store = recording(makeStore());
  const opened = candidate(`fp-property-${++runs}`, OPENED.toISOString());
  await fired(store, opened);
  const id = opened.id;
  const resumes: Array<{ step: number; dueAt: string }> = [];
  const runner: EscalationRunner & { mirrors: string[] } = {
    mirrors: [],
    start: async () => undefined,
    stop: async () => undefined,
    mirror: async (_, kind) => void runner.mirrors.push(kind),
    resume: async (_, step, dueAt) => void resumes.push({ step, dueAt }),
  };
  const escalation: EscalationDeps = {
    store,
    config,
    runbooks: [],
    notifiers: {},
    logger: silent,
  };
  const actions = { store, config, escalation: runner, after: scaledAfter(1) };
  // The engine's view: the step its execution runs next and when it is due (a resume
  // restarts it), and the last step run, which a retried Task runs again at once.
  let nextStep = 0;
  let dueAt = OPENED.getTime();
  let lastStep = 0;
  let now = OPENED;
  const results: Array<{ move: Move; result: ActionResult }> = [];

  /** The store as a stalled Task sees it: its claim goes out only once `gate` has settled. */
  const stalled = (gate: Promise<unknown>) => {
    const gated = Object.create(store) as RecordingStore;
    gated.apply = async (incidentId, update, known) => {
      if (update.claimStep !== undefined) await gate;
      return store.apply(incidentId, update, known);
    };
    return { ...escalation, store: gated };
  };

  const perform = async (move: Move, at: Date, partner: Promise<unknown> | null) => {
    switch (move.kind) {
      case "step": {
        // Steps keep coming after a stop (one in flight, a stop that failed): the store
        // alone must keep them from paging.
        const step = move.retry ? lastStep : nextStep;
        const runAt = new Date(move.retry ? at.getTime() : Math.max(at.getTime(), dueAt));
        const deps = move.stall && partner ? stalled(partner) : escalation;
        const output = await runEscalationStep(deps, { incidentId: id, step }, () => runAt);
        lastStep = step;
        if (!output.done) {
          nextStep = output.step;
          dueAt = Date.parse(output.dueAt);
        }
        if (runAt > now) now = runAt;
        return;
      }
      case "alert_resolved":
        await store.resolveFingerprint(opened, resolveAt(at.toISOString()));
        return;
      default: {
        const action =
          move.kind === "snooze"
            ? { type: "snooze" as const, seconds: move.seconds }
            : { type: move.kind };
        const resumesBefore = resumes.length;
        const result = await takeIncidentAction(
          actions,
          {
            incidentId: id,
            action,
            user: { id: move.user.id, name: move.user.name },
            actor: { display: describeSlackUser(config, move.user), via: "slack" },
          },
          at,
        );
        results.push({ move, result });
        const resumed = resumes.length > resumesBefore ? resumes.at(-1) : undefined;
        if (resumed) {
          nextStep = resumed.step;
          dueAt = Date.parse(resumed.dueAt);
        }
      }
    }
  };

  for (const op of ops) {
    const at = new Date(now.getTime() + op.after * 60_000);
    now = at;
    const [first, second] = op.moves;
    if (!second) {
      await perform(first, at, null);
      continue;
    }
    // Two at once; a stalled step waits for its partner (unless both stall).
    const stalls = (m: Move) => m.kind === "step" && m.stall;
    const one = perform(first, at, stalls(second) ? null : later(() => two));
    const two = perform(second, at, stalls(first) ? null : later(() => one));
    await Promise.all([one, two]);
  }
  const final = (await store.get(id))!;
  return { final, writes: store.writes, results, mirrors: runner.mirrors, resumes, ops };
}

/** Settles when the promise `get` returns (not yet created when this is called) settles. */
const later = (get: () => Promise<unknown>) =>
  Promise.resolve().then(() => get().catch(() => undefined));

const typesOf = (timeline: TimelineEvent[]) => timeline.map((e) => e.type);
const after = (timeline: TimelineEvent[], type: TimelineEvent["type"]) => {
  const index = timeline.findIndex((e) => e.type === type);
  return index < 0 ? [] : timeline.slice(index + 1);
};

function checkInvariants(run: Awaited<ReturnType<typeof play>>) {
  const { final, writes, results } = run;
  const types = typesOf(final.timeline);

  // At most one acknowledgement and one resolution, ever.
  expect(types.filter((t) => t === "acknowledged").length).toBeLessThanOrEqual(1);
  expect(types.filter((t) => t === "resolved").length).toBeLessThanOrEqual(1);

  // A resolve is final: nothing acknowledges, snoozes, escalates or resolves after it.
  expect(typesOf(after(final.timeline, "resolved"))).not.toEqual(
    expect.arrayContaining([expect.stringMatching(/^(acknowledged|snoozed|escalated|resolved)$/)]),
  );
  // An acknowledgement stops the escalation and the snoozes.
  expect(typesOf(after(final.timeline, "acknowledged"))).not.toEqual(
    expect.arrayContaining([expect.stringMatching(/^(snoozed|escalated|acknowledged)$/)]),
  );

  // One snooze at a time: none starts while another runs (a double click changes nothing).
  const snoozes = final.timeline.filter((e) => e.type === "snoozed");
  for (const [i, snooze] of snoozes.entries()) {
    const previousUntil = snoozes[i - 1]?.detail?.replace("escalation paused until ", "");
    if (previousUntil) expect(snooze.at >= previousUntil).toBe(true);
  }

  // The fields say what the timeline says.
  const acknowledged = final.timeline.find((e) => e.type === "acknowledged");
  const resolved = final.timeline.find((e) => e.type === "resolved");
  expect(final.status).toBe(resolved ? "resolved" : acknowledged ? "acknowledged" : "triggered");
  expect(final.acknowledgedBy).toBe(acknowledged?.actor ?? null);
  expect(final.acknowledgedAt).toBe(acknowledged?.at ?? null);
  expect(final.resolvedBy).toBe(resolved?.actor ?? null);
  expect(final.resolvedAt).toBe(resolved?.at ?? null);
  if (final.status !== "triggered") {
    expect(final.acknowledgedBy ?? final.resolvedBy).not.toBeNull();
  }

  // Any resolve that happened leaves the incident resolved.
  const resolvedByClick = results.some(
    (r) => r.move.kind === "resolve" && r.result.outcome === "done",
  );
  const resolvedByAlert = writes.some((w) => w.kind === "alert_resolved");
  if (resolvedByClick || resolvedByAlert) expect(final.status).toBe("resolved");

  // Once an acknowledge or resolve is stored, no escalation step claimed later wins, no
  // later acknowledge or snooze wins, and after a resolve nothing else does.
  const stops = writes.filter(
    (w) =>
      (w.kind === "acknowledged" || w.kind === "resolved" || w.kind === "alert_resolved") && w.ok,
  );
  const firstStop = Math.min(...stops.map((w) => w.end));
  const lateWinners = writes.filter(
    (w) =>
      w.start > firstStop &&
      w.ok &&
      (w.kind === "claim" || w.kind === "snoozed" || w.kind === "acknowledged"),
  );
  expect(lateWinners).toEqual([]);
  const firstResolve = Math.min(
    ...writes
      .filter((w) => (w.kind === "resolved" || w.kind === "alert_resolved") && w.ok)
      .map((w) => w.end),
  );
  expect(
    writes.filter((w) => w.start > firstResolve && w.ok && w.kind !== "alert_resolved"),
  ).toEqual([]);
  // …so the level stays where the first acknowledge or resolve found it.
  const firstStopWrite = stops.find((w) => w.end === firstStop && w.level !== undefined);
  if (
    firstStopWrite &&
    !writes.some((w) => w.kind === "claim" && w.ok && w.end > firstStopWrite.start)
  ) {
    expect(final.level).toBe(firstStopWrite.level);
  }

  // Clicks: the stranger is always refused; nobody else ever is; a "done" is in the timeline.
  for (const { move, result } of results) {
    if ("user" in move && move.user.id === STRANGER) expect(result.outcome).toBe("refused");
    else expect(result.outcome).not.toBe("refused");
  }
  expect(final.timeline.some((e) => e.actor?.includes(STRANGER))).toBe(false);
  const done = (kind: Move["kind"]) =>
    results.filter((r) => r.move.kind === kind && r.result.outcome === "done").length;
  expect(done("acknowledge")).toBe(types.filter((t) => t === "acknowledged").length);
  expect(done("snooze")).toBe(types.filter((t) => t === "snoozed").length);
  expect(done("resolve")).toBeLessThanOrEqual(1);
  expect(done("resolve") + (resolvedByAlert && resolved?.actor === "alertmanager" ? 1 : 0)).toBe(
    types.filter((t) => t === "resolved").length,
  );
  // Each change the runner heard of is one that happened.
  expect(run.mirrors.filter((k) => k === "acknowledge")).toHaveLength(done("acknowledge"));
  expect(run.mirrors.filter((k) => k === "resolve")).toHaveLength(done("resolve"));
  expect(run.resumes).toHaveLength(done("snooze"));
}

/** The property's seed: FC_SEED plays other interleavings (a failure prints its seed and path). */
const PROPERTY_SEED = Number(process.env.FC_SEED ?? 1_112_026);

/** What a run exercised, so the property cannot pass by never reaching the interesting cases. */
function coverage(run: Awaited<ReturnType<typeof play>>, seen: Set<string>) {
  for (const w of run.writes) seen.add(`${w.kind}:${w.ok ? "won" : "lost"}`);
  for (const r of run.results) seen.add(`${r.move.kind}:${r.result.outcome}`);
  if (run.ops.some((op) => op.moves.length === 2)) seen.add("concurrent");
  if (typesOf(run.final.timeline).includes("escalated")) seen.add("escalated");
  if (run.final.escalationBaseAt) seen.add("resumed after a snooze");
}

/**
 * The property over stores from `makeStore` (one per run; they may share a table): `runs`
 * random interleavings, which must also reach every interesting case between them.
 */
export function incidentActionsProperty(
  name: string,
  makeStore: () => IncidentStore,
  runs: number,
) {
  describe(`incident actions and escalation steps, interleaved (fast-check, ${name})`, () => {
    it(`keep a resolve final and an acknowledgement stopping the escalation (${runs} runs)`, async () => {
      // Prepare
      const seen = new Set<string>();
      // Act and Assess: every run, whatever the interleaving, keeps the invariants.
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 6 }), async (ops) => {
          const run = await play(ops, makeStore);
          coverage(run, seen);
          checkInvariants(run);
        }),
        // Seeded, so that every run plays the same interleavings and reaches the cases below
        // (unseeded, 200 runs missed an acknowledge's lost write about one time in three).
        { numRuns: runs, seed: PROPERTY_SEED },
      );
      // Assess: and the runs reached wins, losses, races, escalations and resumed snoozes.
      expect([...seen]).toEqual(
        expect.arrayContaining([
          "claim:won",
          "claim:lost",
          "acknowledged:won",
          "acknowledged:lost",
          "resolved:won",
          "snoozed:won",
          "acknowledge:conflict",
          "acknowledge:refused",
          "snooze:conflict",
          "alert_resolved:won",
          "concurrent",
          "escalated",
          "resumed after a snooze",
        ]),
      );
    }, 60_000);
  });
}

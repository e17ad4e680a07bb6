import {
  escalates,
  type Incident,
  type IncidentWithTimeline,
  isSnoozed,
  tellsAnyone,
} from "./incident.js";
import { applyUpdate, holds, type IncidentUpdate } from "./incident-update.js";
import { channelsActedIn, decideEngine, decideStep } from "./lifecycle-engine.js";
import type {
  Actor,
  AlertContext,
  CommandEvent,
  Conflict,
  Decision,
  Effect,
  FingerprintEvent,
  LifecycleContext,
  LifecycleEvent,
} from "./lifecycle-types.js";

/**
 * An incident's life as one pure function: given the incident (null when there is none),
 * an event and the context (config, now), `decide` answers the guarded change to store and
 * the effects to carry out once it applied. Stores apply changes conditionally (two racing
 * changes never both win); the app carries out effects in order. See PLAN-12 §3's table.
 */

/** How many snoozes the incident had: its escalation's resumed runs are `<id>-snooze-1` … `-<n>`. */
export const escalationRun = (incident: Pick<IncidentWithTimeline, "timeline">): number =>
  incident.timeline.filter((e) => e.type === "snoozed").length;

/** What the incident's answer to a fingerprint event needs: the store found it, not the caller. */
export type Answered = Pick<Incident, "id" | "status" | "channels" | "escalationPolicy" | "test">;

/**
 * The effects of a change as the store answered it. Fingerprint events: once the store
 * opened (and must confirm) or resolved the incident of the fingerprint. Commands: from the
 * incident as the write left it (a level claimed meanwhile is where a snooze resumes).
 */
export function followUp(answered: Answered, event: FingerprintEvent, ctx: AlertContext): Effect[];
export function followUp(
  answered: IncidentWithTimeline,
  event: CommandEvent,
  ctx: AlertContext,
): Effect[];
export function followUp(
  answered: Answered | IncidentWithTimeline,
  event: FingerprintEvent | CommandEvent,
  ctx: AlertContext,
): Effect[] {
  switch (event.type) {
    case "alert_fired":
      // Nothing to tell for an info alert: it is recorded only. A test still has to resolve.
      return escalates(answered) ? [{ type: "start_escalation", dueAt: ctx.now }] : [];
    case "alert_resolved":
    case "episode_followed":
      // An incident that told nobody (info) has no escalation to stop and nothing to mirror.
      // The snoozes' runs stop by themselves: each step checks the status first.
      return tellsAnyone(answered)
        ? [
            { type: "stop_escalation", runs: 0 },
            { type: "mirror", kind: "resolve" },
          ]
        : [];
    case "acknowledge":
    case "resolve": {
      const runs = escalationRun(answered as IncidentWithTimeline);
      const except = channelsActedIn(ctx.config, event.actor.via);
      return [
        { type: "stop_escalation", runs },
        { type: "mirror", kind: event.type, ...(except.length > 0 ? { except } : {}) },
      ];
    }
    case "snooze": {
      const written = answered as IncidentWithTimeline;
      const run = escalationRun(written);
      return [
        { type: "stop_escalation", runs: run - 1 },
        {
          type: "resume_escalation",
          run: String(run),
          step: Math.max(written.escalationStep, 1),
          dueAt: written.snoozedUntil ?? ctx.now,
        },
      ];
    }
  }
}

/** Decides what `event` does to `state` (null: no such incident) at `ctx.now`. */
export function decide(
  state: IncidentWithTimeline | null,
  event: FingerprintEvent,
  ctx: AlertContext,
): Decision;
export function decide(
  state: IncidentWithTimeline | null,
  event: LifecycleEvent,
  ctx: LifecycleContext,
): Decision;
export function decide(
  state: IncidentWithTimeline | null,
  event: LifecycleEvent,
  ctx: AlertContext | LifecycleContext,
): Decision {
  switch (event.type) {
    case "alert_fired":
      // The store finds the fingerprint's incident (episode rules); state is not read.
      return {
        outcome: "change",
        change: { kind: "fire", candidate: event.candidate },
        effects: followUp(event.candidate, event, ctx),
      };
    case "alert_resolved": {
      const { candidate } = event;
      const actor: Actor = { display: candidate.source, via: candidate.source };
      // The store detaches the episode by its own rule (unless a later one is open).
      const update = resolution(actor, `the alert resolved at ${event.endsAt ?? ctx.now}`, {
        now: ctx.now,
        releaseFingerprint: false,
        owed: escalates(candidate),
      });
      return {
        outcome: "change",
        change: { kind: "resolve_fingerprint", candidate, update },
        effects: followUp({ ...candidate, status: "resolved" }, event, ctx),
      };
    }
    case "episode_followed": {
      const { candidate, previous } = event;
      const actor: Actor = { display: candidate.source, via: candidate.source };
      // Guarded like any resolve: a no-op (nothing written) once `previous` is resolved.
      const update = resolution(
        actor,
        `its alert had resolved, but the resolve was cut short before this incident was; finished when the alert fired again (${candidate.id})`,
        { now: ctx.now, releaseFingerprint: false, owed: escalates(candidate) },
      );
      return {
        outcome: "change",
        change: { kind: "update", id: previous, update },
        effects: followUp({ ...candidate, id: previous, status: "resolved" }, event, ctx),
      };
    }
    // The overloads give every other event the whole context.
    case "acknowledge":
    case "resolve":
    case "snooze":
      return command(state, event, ctx as LifecycleContext);
    case "level_due":
    case "snooze_ended":
      return decideStep(state, event.step, event.dueAt, ctx as LifecycleContext);
    case "deliveries_recorded":
    case "state_told":
    case "step_failed":
    case "mirror_due":
    case "engine_lost":
      return decideEngine(state, event, ctx as LifecycleContext);
  }
}

/**
 * A resolve by `actor`, from triggered or acknowledged. By id it frees the fingerprint (the
 * alert firing again opens a new incident); by fingerprint the store has detached it.
 */
function resolution(
  actor: Actor,
  detail: string | undefined,
  { now, releaseFingerprint, owed }: { now: string; releaseFingerprint: boolean; owed: boolean },
): IncidentUpdate {
  return {
    guard: { status: ["triggered", "acknowledged"] },
    set: { status: "resolved", resolvedAt: now, resolvedBy: actor.display },
    append: [
      {
        at: now,
        type: "resolved",
        actor: actor.display,
        via: actor.via,
        ...(detail ? { detail } : {}),
      },
    ],
    ...(releaseFingerprint ? { releaseFingerprint: true as const } : {}),
    ...(owed ? { owedState: "resolved" as const } : {}),
  };
}

/**
 * The change a command asks for. An acknowledge or resolve of an incident that told anyone
 * (or may have) records, in the same write, that its state is owed to the channels: the
 * mirror settles it once they are told, and one lost with its process is found and run again.
 */
function commandUpdate(
  event: CommandEvent,
  state: IncidentWithTimeline,
  ctx: LifecycleContext,
): IncidentUpdate {
  const { now } = ctx;
  const actor = event.actor.display;
  const owed = escalates(state);
  switch (event.type) {
    case "acknowledge":
      return {
        guard: { status: ["triggered"] },
        set: { status: "acknowledged", acknowledgedAt: now, acknowledgedBy: actor },
        append: [
          {
            at: now,
            type: "acknowledged",
            actor,
            via: event.actor.via,
            ...(event.detail ? { detail: event.detail } : {}),
          },
        ],
        ...(owed ? { owedState: "acknowledged" as const } : {}),
      };
    case "resolve":
      return resolution(event.actor, event.detail, { now, releaseFingerprint: true, owed });
    case "snooze": {
      // The snooze ends when the resumed escalation runs: scaled like every other delay.
      const until = ctx.after(new Date(now), event.seconds).toISOString();
      // One snooze at a time: a second click while snoozed changes nothing.
      return {
        guard: { status: ["triggered"], noSnoozeAt: now },
        set: { snoozedUntil: until },
        append: [{ at: now, type: "snoozed", actor, detail: `escalation paused until ${until}` }],
      };
    }
  }
}

/** Why the incident's state refuses a command (its guard fails): what a person is told. */
function conflictOf(incident: IncidentWithTimeline, now: string): Conflict | null {
  if (incident.status === "resolved")
    return {
      reason: "resolved",
      by: incident.resolvedBy ?? "someone",
      at: incident.resolvedAt ?? now,
    };
  if (incident.status === "acknowledged")
    return {
      reason: "acknowledged",
      by: incident.acknowledgedBy ?? "someone",
      at: incident.acknowledgedAt ?? now,
    };
  if (isSnoozed(incident, now)) {
    const by = incident.timeline.findLast((e) => e.type === "snoozed")?.actor ?? "someone";
    return { reason: "snoozed", by, until: incident.snoozedUntil! };
  }
  return null;
}

function command(
  state: IncidentWithTimeline | null,
  event: CommandEvent,
  ctx: LifecycleContext,
): Decision {
  if (!state) return { outcome: "refused", refusal: { reason: "not_found" } };
  if (event.type === "snooze" && !state.escalationPolicy)
    return { outcome: "refused", refusal: { reason: "not_escalating" } };
  const update = commandUpdate(event, state, ctx);
  // Refused for the incident's state (acknowledged, resolved, or a second snooze while one
  // runs); the store's guard says the same when two race.
  if (!holds(update.guard, state)) {
    const conflict = conflictOf(state, ctx.now);
    if (conflict) return { outcome: "conflict", conflict };
  }
  const written = applyUpdate(state, update).incident ?? state;
  return {
    outcome: "change",
    change: { kind: "update", id: state.id, update },
    effects: followUp(written, event, ctx),
  };
}

import { canMirror, channelKind } from "./channels.js";
import type { Config } from "./config.js";
import { mayHaveBeenSent } from "./contacts.js";
import {
  type EscalationContext,
  owedDeliveries,
  planEscalationStep,
  resumeAfterRestart,
  resumeAfterSnooze,
  stepDueAt,
} from "./escalation.js";
import type { Incident, IncidentStatus, IncidentWithTimeline, TimelineEvent } from "./incident.js";
import type { IncidentUpdate } from "./incident-update.js";
import type {
  Decision,
  DeliveryRecord,
  Effect,
  EngineEvent,
  LifecycleContext,
  Via,
} from "./lifecycle-types.js";
import type { OwedDelivery } from "./notification.js";
import { planTestNotification } from "./test-notification.js";

/**
 * The escalation engine's part of the lifecycle (see lifecycle.ts): a Task run of a step,
 * the record of its deliveries, a mirror, and the engine lost on a restart.
 */

/**
 * Channels that may have heard of the incident from owed deliveries (in flight when its
 * state changed) and can be told its state (CHANNEL_KINDS): PagerDuty, and Slack where its
 * message is known (a state change is an update of that message; one never posted has
 * nothing to update).
 */
export function channelsOfOwed(
  config: Config,
  incident: Incident,
  owed: readonly OwedDelivery[],
): string[] {
  const changedAt = incident.acknowledgedAt ?? incident.resolvedAt;
  return owed
    .filter((o) => !changedAt || mayHaveBeenSent(o, changedAt))
    .map((o) => o.channelId)
    .filter((channelId) => canMirror(config, incident, channelId));
}

/**
 * The channels where an actor acting via `via` acted, which know the state they set: the
 * PagerDuty channels for an acknowledge or resolve made in PagerDuty.
 */
export function channelsActedIn(config: Config, via: Via | undefined): string[] {
  if (via !== "pagerduty") return [];
  return Object.entries(config.channels)
    .filter(([, channel]) => channel.type === "pagerduty")
    .map(([id]) => id);
}

/** Where the incident's current state (acknowledged, resolved) was set: see channelsActedIn. */
function actedIn(config: Config, incident: IncidentWithTimeline): string[] {
  const event = incident.timeline.findLast((e) => e.type === incident.status);
  return channelsActedIn(config, event?.via);
}

/** Channels the incident's current state was delivered to since it was set. */
function toldItsState(incident: IncidentWithTimeline): string[] {
  const since = incident.timeline.findLast((e) => e.type === incident.status)?.at;
  if (!since) return [];
  const kind = incident.status === "resolved" ? "resolve" : "acknowledge";
  return incident.timeline.flatMap((e) =>
    e.type === "notified" &&
    e.outcome === "delivered" &&
    e.channel &&
    e.at >= since &&
    e.detail?.startsWith(`${kind}: `)
      ? [e.channel]
      : [],
  );
}

/**
 * The people a record of deliveries leaves unreached at a level: every personal delivery of
 * theirs for that step has ended (none still owed) and none was delivered, each not
 * delivered or refused for good. Recorded once per person and step, at `now`.
 */
export function unreachableAfter(
  state: IncidentWithTimeline,
  record: Pick<DeliveryRecord, "events" | "owed" | "pending">,
  now: string,
): TimelineEvent[] {
  const recorded = new Set(record.owed.map((o) => o.key));
  const left = [
    ...(state.owedDeliveries ?? []).filter((o) => !recorded.has(o.key)),
    ...record.pending,
  ];
  const people = new Map<string, OwedDelivery>();
  for (const o of record.owed) if (o.contact) people.set(`${o.step}:${o.contact.userId}`, o);
  const timeline = [...state.timeline, ...record.events];
  const events: TimelineEvent[] = [];
  for (const { step, level, claimedAt, contact } of people.values()) {
    const person = contact!.userId;
    if (left.some((o) => o.step === step && o.contact?.userId === person)) continue;
    const mine = (e: TimelineEvent) =>
      e.person === person && e.level === level && e.at >= claimedAt;
    const outcomes = timeline.filter(
      (e) =>
        mine(e) &&
        e.method !== "pagerduty" &&
        (e.type === "notified" || e.type === "notification_failed"),
    );
    if (outcomes.length === 0 || outcomes.some((e) => e.outcome === "delivered")) continue;
    if (state.timeline.some((e) => e.type === "unreachable" && mine(e))) continue;
    const tried = outcomes.map(
      (e) => `${e.method} ${e.outcome === "failed" ? "failed" : "not delivered"}`,
    );
    events.push({
      at: now,
      type: "unreachable",
      level,
      person,
      target: contact!.name,
      detail: `no contact method reached them: ${tried.join(", ")}`,
    });
  }
  return events;
}

/** Deliveries to send now, unless there are none. */
const deliver = (owed: OwedDelivery[], level: number): Effect[] =>
  owed.length > 0 ? [{ type: "deliver", owed, level }] : [];

/** Telling `channels` the state (those that mirror it), unless there is nothing to tell or settle. */
function tellState(
  config: Config,
  channels: readonly string[],
  owed: OwedDelivery[],
  settlesState = false,
): Effect[] {
  const told = [...new Set(channels)].filter((id) => channelKind(config, id)?.mirrorsState);
  // A mirror settles the owed state even with no channel to tell.
  return told.length > 0 || owed.length > 0 || settlesState
    ? [{ type: "tell_state", channels: told, owed, settlesState }]
    : [];
}

const earliest = (times: readonly (string | undefined)[]) =>
  times.filter((t): t is string => t !== undefined).sort()[0];

/**
 * A run of step `step` of the escalation (the state machine's Task). Not triggered: the
 * channels owed a page are owed the state instead, and it ends. Else what earlier steps
 * still owe and is due is sent, and if the step's level is due it is claimed (so a retried
 * Task never claims twice, and an acknowledgement stored first always wins) and sent too;
 * a snooze that is over resumes at the level it had reached. The Task then waits for the
 * next level or an owed delivery's next attempt, whichever is first.
 */
export function decideStep(
  state: IncidentWithTimeline | null,
  step: number,
  dueAt: string | undefined,
  ctx: LifecycleContext,
): Decision {
  if (!state) return { outcome: "none", effects: [{ type: "end" }] };
  const owedBefore = state.owedDeliveries ?? [];
  if (state.status !== "triggered") {
    const channels = channelsOfOwed(ctx.config, state, owedBefore);
    return {
      outcome: "none",
      effects: [...tellState(ctx.config, channels, owedBefore), { type: "end" }],
    };
  }
  const now = ctx.now;
  const context: EscalationContext = {
    config: ctx.config,
    now: new Date(now),
    after: ctx.after,
  };
  // A snooze that is over resumes here: the level reached fires again, later ones follow.
  const resume =
    state.snoozedUntil && state.snoozedUntil <= now
      ? resumeAfterSnooze(state, state.escalationStep, context)
      : null;
  const resuming = resume !== null && resume.step === step;
  const incident = resuming ? { ...state, escalationBaseAt: resume.baseAt } : state;
  const stepDue = stepDueAt(incident, step, context);
  const isDue = (o: OwedDelivery) => !o.nextAttemptAt || o.nextAttemptAt <= now;
  const then = (
    next: { step: number; dueAt: string } | null,
    otherStep: number,
    waiting: readonly OwedDelivery[],
  ): Effect[] =>
    incident.test
      ? [{ type: "resolve_test" }, { type: "end" }]
      : [
          {
            type: "wait",
            step: next?.step ?? otherStep,
            dueAt: earliest([next?.dueAt, ...waiting.map((o) => o.nextAttemptAt)]) ?? null,
          },
        ];
  const levelIsDue =
    dueAt === undefined || resuming || (stepDue !== null && Date.parse(dueAt) >= stepDue);
  if (!levelIsDue) {
    // An earlier run (a later attempt of an owed delivery): no level fires.
    const next =
      stepDue === null
        ? null
        : { step, dueAt: new Date(Math.max(stepDue, Date.parse(now))).toISOString() };
    return {
      outcome: "none",
      effects: [
        ...deliver(owedBefore.filter(isDue), incident.level),
        ...then(
          next,
          step,
          owedBefore.filter((o) => !isDue(o)),
        ),
      ],
    };
  }
  const plan = incident.test
    ? planTestNotification(incident, ctx.config)
    : planEscalationStep(incident, step, context);
  const claimed = owedDeliveries(plan, now, ctx.after);
  const keys = new Set(claimed.map((o) => o.key));
  const earlier = owedBefore.filter((o) => !keys.has(o.key));
  const update: IncidentUpdate = {
    guard: resuming
      ? { status: ["triggered"], snoozeOverAt: now }
      : { status: ["triggered"], stepUnclaimed: step, noSnoozeAt: now },
    claimStep: step,
    set: {
      escalationStep: plan.reached,
      level: plan.level,
      ...(resuming ? { snoozedUntil: null, escalationBaseAt: resume.baseAt } : {}),
    },
    append: plan.events,
    owe: claimed,
  };
  return {
    outcome: "change",
    change: { kind: "update", id: state.id, update },
    // Messages show the level reached, this step's once claimed.
    // A rule's later delivery (a voice call after 2 minutes) waits like a later attempt.
    effects: [
      ...deliver([...earlier, ...claimed].filter(isDue), plan.level),
      ...then(
        plan.next,
        plan.reached + 1,
        [...earlier, ...claimed].filter((o) => !isDue(o)),
      ),
    ],
    // Claimed already (a retried Task) or snoozed meanwhile: only what was owed before.
    otherwise: [
      ...deliver(owedBefore.filter(isDue), incident.level),
      ...then(
        plan.next,
        plan.reached + 1,
        owedBefore.filter((o) => !isDue(o)),
      ),
    ],
  };
}

/**
 * When the Task runs next, from its `wait` and what the deliveries it made left owed for a
 * later attempt: the earliest of the two, never before `now`; null when neither (done).
 */
export function nextRun(
  wait: Extract<Effect, { type: "wait" }>,
  pending: readonly OwedDelivery[],
  now: string,
): { step: number; dueAt: string; waitSeconds: number } | null {
  const dueAt = earliest([wait.dueAt ?? undefined, ...pending.map((o) => o.nextAttemptAt)]);
  if (!dueAt) return null;
  const at = Date.parse(now);
  const wakeAt = Math.max(Date.parse(dueAt), at);
  return {
    step: wait.step,
    dueAt: new Date(wakeAt).toISOString(),
    waitSeconds: Math.ceil((wakeAt - at) / 1000),
  };
}

/**
 * Outcomes recorded with what they settle, only while the incident's status is `status`;
 * otherwise the outcomes (and the Slack messages and PagerDuty incidents opened) alone.
 */
function whileStatus(
  status: IncidentStatus,
  record: {
    events: TimelineEvent[];
    slackMessages?: IncidentUpdate["slackMessages"];
    pagerDutyIncidents?: IncidentUpdate["pagerDutyIncidents"];
  },
  settles: Pick<IncidentUpdate, "settle" | "owe" | "owedState">,
): IncidentUpdate {
  // Kept whatever the state: a mirror acknowledges or resolves that PagerDuty incident.
  const pagerDutyIncidents = record.pagerDutyIncidents ?? [];
  const refs = {
    slackMessages: record.slackMessages ?? [],
    ...(pagerDutyIncidents.length > 0 ? { pagerDutyIncidents } : {}),
  };
  return {
    guard: { exists: true, status: [status] },
    append: record.events,
    ...settles,
    ...refs,
    otherwise: { guard: { exists: true }, append: record.events, ...refs },
  };
}

/** The engine's other events: deliveries recorded, a state told, a step failed, a mirror due, the engine lost. */
export function decideEngine(
  state: IncidentWithTimeline | null,
  event: Extract<
    EngineEvent,
    { type: "deliveries_recorded" | "state_told" | "step_failed" | "mirror_due" | "engine_lost" }
  >,
  ctx: LifecycleContext,
): Decision {
  switch (event.type) {
    case "deliveries_recorded": {
      if (!state) return { outcome: "none", effects: [{ type: "end" }] };
      // No longer triggered: the outcomes are recorded all the same, the owed ones kept,
      // since their channels are then owed the incident's state.
      const update = whileStatus("triggered", event, {
        settle: event.owed.map((o) => o.key),
        owe: event.pending,
      });
      // While triggered: the people this record leaves unreached are recorded with it.
      update.append = [...event.events, ...unreachableAfter(state, event, ctx.now)];
      return {
        outcome: "change",
        change: { kind: "update", id: state.id, update },
        // Still triggered: the Task goes on (its wait).
        effects: [],
        otherwise: [...tellState(ctx.config, event.delivered, event.owed), { type: "end" }],
      };
    }
    case "state_told": {
      if (!state) return { outcome: "none", effects: [] };
      // Settled only while the state told is still the incident's. It moved on meanwhile:
      // the outcomes are recorded, and its channels are owed the new state (the caller
      // tells it them; nothing settled).
      const update = whileStatus(state.status, event, {
        settle: event.settle,
        ...(event.settlesState ? { owedState: null } : {}),
      });
      return { outcome: "change", change: { kind: "update", id: state.id, update }, effects: [] };
    }
    case "step_failed": {
      if (!state) return { outcome: "none", effects: [] };
      const append = [{ at: ctx.now, type: "notification_failed" as const, detail: event.detail }];
      // A mirror given up settles its owed state (while it is still that one): the sweep of
      // owed states would find it for nothing.
      const update: IncidentUpdate = event.givenUp
        ? {
            guard: { exists: true, status: [state.status] },
            append,
            owedState: null,
            otherwise: { guard: { exists: true }, append },
          }
        : { guard: { exists: true }, append };
      return { outcome: "change", change: { kind: "update", id: state.id, update }, effects: [] };
    }
    case "mirror_due": {
      // The state stored when it runs is told, not the one it was started for.
      if (!state || state.status === "triggered") return { outcome: "none", effects: [] };
      const owed = state.owedDeliveries ?? [];
      // A person a level could not reach (no PagerDuty user id, no credentials) heard nothing.
      const told = state.timeline.flatMap((e) =>
        e.type === "notified" && e.channel && !(e.outcome === "not_delivered" && e.person)
          ? [e.channel]
          : [],
      );
      // Where the actor acted knows already (a PagerDuty acknowledge is not sent back to it),
      // and so does a channel told this state since it was set (by a Task that found it).
      const except = new Set([...actedIn(ctx.config, state), ...toldItsState(state)]);
      return {
        outcome: "none",
        effects: tellState(
          ctx.config,
          [...told, ...channelsOfOwed(ctx.config, state, owed)].filter((id) => !except.has(id)),
          owed,
          true,
        ),
      };
    }
    case "engine_lost": {
      const plan = state ? resumeAfterRestart(state, new Date(ctx.now)) : null;
      if (!plan) return { outcome: "none", effects: [] };
      const run = `restart-${Date.parse(ctx.now)}`;
      return {
        outcome: "none",
        effects: [{ type: "resume_escalation", run, step: plan.step, dueAt: plan.dueAt }],
      };
    }
  }
}

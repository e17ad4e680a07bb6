import type { After } from "./clock.js";
import type { Config } from "./config.js";
import type { IncidentWithTimeline, TimelineEvent } from "./incident.js";
import type { IncidentUpdate } from "./incident-update.js";
import type { OwedDelivery, SlackMessageRef } from "./notification.js";

/**
 * The words of an incident's life (see lifecycle.ts): the events that happen to it, what
 * `decide` answers, the changes stores apply and the effects the app carries out.
 */

/**
 * Where an actor acted from: pagerduty (a v3 webhook), link (a signed acknowledgement link),
 * sms (a reply to a page). Issues 14-15 add api, page, heartbeat.
 */
export type Via = "slack" | "alertmanager" | "grafana" | "tocsin" | "pagerduty" | "link" | "sms";

export interface Actor {
  /** How the timeline names them: `Alice Martin (alice)`, `ada (Slack U024BE7LH)`, `alertmanager`. */
  display: string;
  via: Via;
  userId?: string | undefined;
}

/** Fingerprint events: the store, not the lifecycle, finds the incident (decide(null, …)). */
export type FingerprintEvent =
  /** A firing alert, routed and fitted: `candidate` opens an incident under its new id. */
  | { type: "alert_fired"; candidate: IncidentWithTimeline }
  /** A resolved alert: `candidate` is the incident it would have opened; `endsAt` the sender's. */
  | { type: "alert_resolved"; candidate: IncidentWithTimeline; endsAt: string | null }
  /**
   * A firing opened a new episode of its fingerprint after `previous`, the last episode's
   * incident: that episode was detached by a resolve, so `previous` is resolved, unless the
   * resolve was cut short between its two writes (the detach, then the incident). This
   * finishes it, so that one fingerprint never has two open incidents.
   */
  | { type: "episode_followed"; candidate: IncidentWithTimeline; previous: string };

/** Commands on an incident by id (a Slack click). */
export type CommandEvent =
  | { type: "acknowledge"; actor: Actor; detail?: string | undefined }
  | { type: "resolve"; actor: Actor; detail?: string | undefined }
  /** `seconds` as the person chose it: the context scales it (local only). */
  | { type: "snooze"; actor: Actor; seconds: number };

/** The escalation engine's events (the state machine's Tasks, the local engine's start-up). */
export type EngineEvent =
  /** A Task run of step `step` (StepInput): `dueAt` as the state machine scheduled it. */
  | { type: "level_due"; step: number; dueAt?: string | undefined }
  /**
   * The run a snooze scheduled (resume_escalation) is due. The Task cannot tell it from a
   * level_due, so both are decided alike: the stored state says whether it resumes.
   */
  | { type: "snooze_ended"; step: number; dueAt?: string | undefined }
  /** A Task's deliveries ended: what they came to, ready to record. */
  | ({ type: "deliveries_recorded" } & DeliveryRecord)
  /**
   * The incident's state was told to its channels (followWithState): `events` the outcomes,
   * `settle` the owed deliveries it settles and `settlesState` the owed state (a mirror's,
   * once every channel has it), each only while the state told is still the incident's.
   */
  | ({ type: "state_told" } & StateRecord)
  /**
   * A step (or a mirror) failed past its Task's retries (Record failure): `detail` says why
   * and what follows; `givenUp` for a mirror given up, which settles its owed state.
   */
  | { type: "step_failed"; detail: string; givenUp: boolean }
  /** A mirror execution runs (`<id>-acknowledge|resolve`): tell the channels the state. */
  | { type: "mirror_due"; kind: "acknowledge" | "resolve" }
  /** The engine that ran the escalations was lost (the local server restarted). */
  | { type: "engine_lost" };
// Reserved for issues 13-15: escalate_now, reassign, note, ack_timeout, maintenance_began, maintenance_ended.

export type LifecycleEvent = FingerprintEvent | CommandEvent | EngineEvent;

/**
 * What a Task's deliveries came to, as the Task makes it from its attempts (deliveryEvent of
 * core/delivery-record.ts, with the next attempt's time for a retryable failure).
 */
export interface DeliveryRecord {
  /** One timeline event per attempt, in the order they ended. */
  events: TimelineEvent[];
  /** The owed deliveries they were for: each is settled, or rewritten when in `pending`. */
  owed: OwedDelivery[];
  /** Those owed a later attempt, with its time (nextAttemptAt). */
  pending: OwedDelivery[];
  /** Channels they reached. */
  delivered: string[];
  /** The Slack messages they posted, each where the incident had none in that channel. */
  slackMessages?: ReadonlyArray<{ channelId: string; ref: SlackMessageRef }> | undefined;
  /** PagerDuty user mode: the PagerDuty incidents they opened, by channel id. */
  pagerDutyIncidents?: ReadonlyArray<{ channelId: string; id: string }> | undefined;
}

/** What telling an incident's state came to (see the state_told event). */
export interface StateRecord {
  events: TimelineEvent[];
  settle: string[];
  settlesState: boolean;
  slackMessages?: ReadonlyArray<{ channelId: string; ref: SlackMessageRef }> | undefined;
}

export interface LifecycleContext {
  config: Config;
  /** ISO-8601; the caller read the clock. */
  now: string;
  /** Adds tocsin's own durations (levels, snoozes): divided by the local time scale. */
  after: After;
}

/** What alert events need: they add no durations of tocsin's own. */
export type AlertContext = Omit<LifecycleContext, "after">;

export type Refusal = { reason: "not_found" | "not_escalating" };

export type Conflict =
  | { reason: "acknowledged" | "resolved"; by: string; at: string }
  | { reason: "snoozed"; by: string; until: string };

export type Decision =
  /**
   * A guarded change; `effects` are carried out once it applied. `otherwise`: when its guard
   * failed (the update's own `otherwise` applied, or nothing did and a fresh read finds the
   * incident still triggered), what to carry out instead.
   */
  | { outcome: "change"; change: Change; effects: Effect[]; otherwise?: Effect[] | undefined }
  /** Nothing to write. */
  | { outcome: "none"; effects: Effect[] }
  | { outcome: "refused"; refusal: Refusal }
  | { outcome: "conflict"; conflict: Conflict };

export type Change =
  /** Open `candidate`, or count one more firing of its fingerprint's open incident. */
  | { kind: "fire"; candidate: IncidentWithTimeline }
  /** Resolve the open incident of `candidate`'s fingerprint (the store finds it). */
  | { kind: "resolve_fingerprint"; candidate: IncidentWithTimeline; update: IncidentUpdate }
  | { kind: "update"; id: string; update: IncidentUpdate };

/** What the app does once a change applied, in order (the tables assert the order). */
export type Effect =
  /** Start the escalation: execution `<id>`, step 0, due at `dueAt`. */
  | { type: "start_escalation"; dueAt: string }
  /** Stop the escalation: executions `<id>` and `<id>-snooze-1` … `<id>-snooze-<runs>`. */
  | { type: "stop_escalation"; runs: number }
  /** Resume it at `step`, due at `dueAt`: execution `<id>-snooze-<run>`. */
  | { type: "resume_escalation"; run: string; step: number; dueAt: string }
  /**
   * Tell the channels the new state: execution `<id>-<kind>`. `except`: channels the actor
   * acted in, which know already (a PagerDuty acknowledge is not sent back to PagerDuty).
   */
  | { type: "mirror"; kind: "acknowledge" | "resolve"; except?: string[] | undefined }
  /** Send these owed deliveries now (in the Task), messages showing `level`; then record them. */
  | { type: "deliver"; owed: OwedDelivery[]; level: number }
  /**
   * Tell `channels` the incident's state (followWithState), settling `owed` once told. With
   * `settlesState` (a mirror: every channel that heard), the owed state is settled too.
   */
  | { type: "tell_state"; channels: string[]; owed: OwedDelivery[]; settlesState: boolean }
  /** A test incident's test is sent: it resolves by itself. */
  | { type: "resolve_test" }
  /**
   * The Task's output, not done: run step `step` at `dueAt`, or sooner when a delivery just
   * made is owed a later attempt (see nextRun); with `dueAt` null, done unless one is.
   */
  | { type: "wait"; step: number; dueAt: string | null }
  /** The Task's output, done. */
  | { type: "end" };

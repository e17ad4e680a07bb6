import type { After } from "../core/clock.js";
import type { Config } from "../core/config.js";
import { IncidentConflictError } from "../core/errors.js";
import type { EscalationRunner } from "../core/escalation-runner.js";
import {
  applyTransition as applyTransitionTo,
  type IncidentCommand,
  type IncidentWithTimeline,
  isSnoozed,
  planTransition,
} from "../core/incident.js";
import type { IncidentStore } from "../core/incident-store.js";
import { escalates } from "../core/lifecycle.js";
import { mayRespond, type SlackUser } from "../core/responders.js";
import { describeSlackUser } from "../integrations/slack/users.js";
import type { Telemetry } from "./telemetry.js";

export type IncidentAction =
  | { kind: "acknowledge" }
  | { kind: "resolve" }
  | { kind: "snooze"; seconds: number };

export interface ActionDeps {
  store: IncidentStore;
  config: Config;
  escalation?: EscalationRunner | undefined;
  /** Adds the snooze (divided by the local time scale, like every other delay). */
  after: After;
  /** Told when the escalation engine fails after the change was stored (for the logs). */
  onEngineFault?: (incidentId: string, error: unknown) => void;
  /** Times acknowledgements: from the incident opening to the click that acknowledged it. */
  telemetry?: Telemetry | undefined;
}

export type ActionResult =
  | { outcome: "done"; incident: IncidentWithTimeline; message: string }
  | { outcome: "refused" | "not_found" | "conflict"; message: string }
  /** The same request acted before (a replay, a double delivery): nothing changed. */
  | { outcome: "replayed" };

/**
 * Makes a request act once (a replay guard on its signature): `claim` is asked just before
 * the change, so only a request that will act is remembered, and is true for one copy of
 * the request; `claimed` says, without remembering anything, whether a copy acted before.
 */
export interface ActOnce {
  claim: () => Promise<boolean>;
  claimed: () => Promise<boolean>;
}

const hhmm = (iso: string) => `${iso.slice(11, 16)} UTC`;

function whatHappened(incident: IncidentWithTimeline, now: Date): string {
  if (incident.status === "resolved")
    return `already resolved by ${incident.resolvedBy} at ${hhmm(incident.resolvedAt!)}`;
  if (incident.status === "acknowledged")
    return `already acknowledged by ${incident.acknowledgedBy} at ${hhmm(incident.acknowledgedAt!)}`;
  if (isSnoozed(incident, now.toISOString())) {
    const by = incident.timeline.findLast((e) => e.type === "snoozed")?.actor ?? "someone";
    return `already snoozed by ${by} until ${hhmm(incident.snoozedUntil!)}`;
  }
  return `still ${incident.status}`;
}

/**
 * Acknowledge, resolve or snooze an incident for a Slack user: authorised by the team's
 * responders, applied as one conditional write (a lost race or a second click changes
 * nothing and says what happened), then the escalation is stopped and the channels told.
 * With `once`, a copy of a request that acted (or is acting) is `replayed`, whatever the
 * incident's state is by then.
 */
export async function takeIncidentAction(
  deps: ActionDeps,
  request: { incidentId: string; action: IncidentAction; user: SlackUser; once?: ActOnce },
  now: Date,
): Promise<ActionResult> {
  const incident = await deps.store.get(request.incidentId);
  if (!incident)
    return { outcome: "not_found", message: "This incident no longer exists in tocsin." };
  if (!mayRespond(deps.config, incident.team, request.user)) {
    return {
      outcome: "refused",
      message: `Only the responders of team ${incident.team} may act on this incident.`,
    };
  }
  const actor = describeSlackUser(deps.config, request.user);
  const { action } = request;
  if (action.kind === "snooze" && !incident.escalationPolicy) {
    return {
      outcome: "refused",
      message: "This incident does not escalate, so there is nothing to snooze.",
    };
  }
  // The snooze ends when the resumed escalation runs: scaled like every other delay (local only).
  const snoozeSeconds =
    action.kind === "snooze"
      ? (deps.after(now, action.seconds).getTime() - now.getTime()) / 1000
      : 0;
  const command: IncidentCommand =
    action.kind === "snooze"
      ? { type: "snooze", actor, seconds: snoozeSeconds }
      : { type: action.kind, actor };
  const runner = deps.escalation;
  // An acknowledge or resolve is mirrored to the channels: the write says it is owed to them.
  const transition = {
    ...planTransition(command, now.toISOString()),
    ...(runner && action.kind !== "snooze" && escalates(incident) ? { mirror: true } : {}),
  };
  // Refused for the incident's state (acknowledged, resolved, or a second Snooze while one
  // runs): nothing to remember; the store's condition says the same when two race.
  if (!applyTransitionTo(incident, transition).applied) {
    if (await request.once?.claimed()) return { outcome: "replayed" };
    return {
      outcome: "conflict",
      message: `Nothing changed: this incident is ${whatHappened(incident, now)}.`,
    };
  }
  if (request.once && !(await request.once.claim())) return { outcome: "replayed" };
  let updated: IncidentWithTimeline;
  try {
    updated = await deps.store.applyTransition(incident, transition);
  } catch (error) {
    if (!(error instanceof IncidentConflictError)) throw error;
    const current = await deps.store.get(incident.id);
    return {
      outcome: "conflict",
      message: `Nothing changed: this incident is ${current ? whatHappened(current, now) : error.currentStatus}.`,
    };
  }
  if (action.kind === "acknowledge")
    deps.telemetry?.timing("acknowledgement", now.getTime() - Date.parse(incident.createdAt));
  let engineProblem = "";
  if (runner) {
    // The change is stored: Slack will not retry the click, so an engine fault is reported,
    // not thrown. A running escalation still stops by itself (each step checks the status).
    try {
      await runner.stop(incident.id, incident.timeline.filter((e) => e.type === "snoozed").length);
      if (action.kind === "snooze") {
        const attempt = String(updated.timeline.filter((e) => e.type === "snoozed").length);
        await runner.resume(
          incident.id,
          Math.max(updated.escalationStep, 1),
          Math.ceil(snoozeSeconds),
          attempt,
        );
      } else {
        await runner.mirror(incident.id, action.kind);
      }
    } catch (error) {
      engineProblem =
        action.kind === "snooze"
          ? " Warning: the escalation could not be rescheduled; acknowledge the incident or snooze it again."
          : " PagerDuty and this message may not show it yet: the escalation engine did not answer (they are told once it does).";
      deps.onEngineFault?.(incident.id, error);
    }
  }
  const done = {
    acknowledge: `Acknowledged by ${actor} at ${hhmm(now.toISOString())}.`,
    resolve: `Resolved by ${actor} at ${hhmm(now.toISOString())}.`,
    snooze: `Snoozed by ${actor} until ${hhmm(updated.snoozedUntil ?? now.toISOString())}; escalation resumes then.`,
  }[action.kind];
  return { outcome: "done", incident: updated, message: done + engineProblem };
}

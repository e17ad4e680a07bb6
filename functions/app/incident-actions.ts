import type { After } from "../core/clock.js";
import type { Config } from "../core/config.js";
import { IncidentNotFoundError } from "../core/errors.js";
import type { EscalationRunner } from "../core/escalation-runner.js";
import type { IncidentWithTimeline } from "../core/incident.js";
import type { IncidentStore } from "../core/incident-store.js";
import { decide, followUp } from "../core/lifecycle.js";
import type {
  Actor,
  CommandEvent,
  Conflict,
  Decision,
  LifecycleContext,
} from "../core/lifecycle-types.js";
import { mayRespond, type SlackUser } from "../core/responders.js";
import { carryOut, owedOnlyWithEngine } from "./effects.js";
import type { Telemetry } from "./telemetry.js";

type WithoutActor<E> = E extends unknown ? Omit<E, "actor"> : never;

/** A command as a person asks for it (the edge translates a click into one); who asks is the actor. */
export type IncidentAction = WithoutActor<CommandEvent>;

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

function whatHappened(conflict: Conflict): string {
  switch (conflict.reason) {
    case "resolved":
    case "acknowledged":
      return `already ${conflict.reason} by ${conflict.by} at ${hhmm(conflict.at)}`;
    case "snoozed":
      return `already snoozed by ${conflict.by} until ${hhmm(conflict.until)}`;
  }
}

const REFUSED = {
  not_found: "This incident no longer exists in tocsin.",
  not_escalating: "This incident does not escalate, so there is nothing to snooze.",
} as const;

/** What the person is told once the change is stored. */
function doneMessage(event: CommandEvent, written: IncidentWithTimeline, now: string): string {
  const { display } = event.actor;
  switch (event.type) {
    case "acknowledge":
      return `Acknowledged by ${display} at ${hhmm(now)}.`;
    case "resolve":
      return `Resolved by ${display} at ${hhmm(now)}.`;
    case "snooze":
      return `Snoozed by ${display} until ${hhmm(written.snoozedUntil ?? now)}; escalation resumes then.`;
  }
}

/**
 * Acknowledge, resolve or snooze an incident for a person: a Slack user authorised by the
 * team's responders (a person who acted in PagerDuty was authorised there), decided by the lifecycle, applied as one conditional write (a lost race or a
 * second click changes nothing and says what happened), then its effects carried out: the
 * escalation stopped, the channels told or the escalation resumed later. With `once`, a
 * copy of a request that acted (or is acting) is `replayed`, whatever the incident's state
 * is by then.
 */
export async function takeIncidentAction(
  deps: ActionDeps,
  request: {
    incidentId: string;
    action: IncidentAction;
    /** A Slack user is held to the team's `responders`; undefined: authorised elsewhere. */
    user: SlackUser | undefined;
    actor: Actor;
    once?: ActOnce;
  },
  now: Date,
): Promise<ActionResult> {
  const ctx: LifecycleContext = { config: deps.config, now: now.toISOString(), after: deps.after };
  const incident = await deps.store.get(request.incidentId);
  if (!incident) return { outcome: "not_found", message: REFUSED.not_found };
  // Without a Slack user, the person was authorised where they acted (PagerDuty, a signed link).
  if (request.user && !mayRespond(deps.config, incident.team, request.user)) {
    return {
      outcome: "refused",
      message: `Only the responders of team ${incident.team} may act on this incident.`,
    };
  }
  const event = { ...request.action, actor: request.actor } as CommandEvent;
  const decision = decide(incident, event, ctx);
  if (decision.outcome !== "change") return answer(decision, request.once);
  if (decision.change.kind !== "update") throw new Error("a command changes one incident");
  // Only a request that will act is remembered: the state allows the change.
  if (request.once && !(await request.once.claim())) return { outcome: "replayed" };
  const runner = deps.escalation;
  const update = owedOnlyWithEngine(decision.change.update, runner);
  const { applied, incident: written } = await deps.store.apply(incident.id, update, incident);
  if (!applied) {
    // Lost a race: the state moved on since it was read. Decided again on what it is now.
    const current = await deps.store.get(incident.id);
    if (!current) throw new IncidentNotFoundError(incident.id);
    const again = decide(current, event, ctx);
    return {
      outcome: "conflict",
      message: `Nothing changed: this incident is ${again.outcome === "conflict" ? whatHappened(again.conflict) : `still ${current.status}`}.`,
    };
  }
  if (event.type === "acknowledge")
    deps.telemetry?.timing("acknowledgement", now.getTime() - Date.parse(incident.createdAt));
  let engineProblem = "";
  if (runner) {
    // The change is stored: Slack will not retry the click, so an engine fault is reported,
    // not thrown. A running escalation still stops by itself (each step checks the status).
    const effects = followUp(written, event, ctx);
    try {
      await carryOut(runner, incident.id, effects);
    } catch (error) {
      engineProblem = effects.some((e) => e.type === "resume_escalation")
        ? " Warning: the escalation could not be rescheduled; acknowledge the incident or snooze it again."
        : " PagerDuty and this message may not show it yet: the escalation engine did not answer (they are told once it does).";
      deps.onEngineFault?.(incident.id, error);
    }
  }
  return {
    outcome: "done",
    incident: written,
    message: doneMessage(event, written, ctx.now) + engineProblem,
  };
}

/** A decision that changes nothing, as the person is told it. */
async function answer(
  decision: Exclude<Decision, { outcome: "change" }>,
  once: ActOnce | undefined,
): Promise<ActionResult> {
  switch (decision.outcome) {
    case "refused":
      return decision.refusal.reason === "not_found"
        ? { outcome: "not_found", message: REFUSED.not_found }
        : { outcome: "refused", message: REFUSED.not_escalating };
    case "conflict":
      // Refused for the incident's state: nothing to remember, but a copy of a request that
      // acted is a replay (its state change is what the conflict is about).
      if (await once?.claimed()) return { outcome: "replayed" };
      return {
        outcome: "conflict",
        message: `Nothing changed: this incident is ${whatHappened(decision.conflict)}.`,
      };
    case "none":
      throw new Error("a command always decides a change, a refusal or a conflict");
  }
}

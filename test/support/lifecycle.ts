import { readFileSync } from "node:fs";
import { scaledAfter } from "../../functions/core/clock.js";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import type { FiringOutcome, IncidentStore } from "../../functions/core/incident-store.js";
import type { IncidentUpdate } from "../../functions/core/incident-update.js";
import { decide } from "../../functions/core/lifecycle.js";
import type {
  Actor,
  CommandEvent,
  Decision,
  LifecycleContext,
} from "../../functions/core/lifecycle-types.js";
import { parseConfig } from "../../functions/core/yaml-files.js";

/**
 * Tests' ways into a store through the lifecycle, as the app goes (read → decide → apply),
 * for setting up incidents in a state without an escalation engine or a Slack click.
 */

const config = parseConfig(readFileSync(new URL("../../tocsin.yaml", import.meta.url), "utf8"));

/** The lifecycle's context at `now` (the shipped config, unscaled). */
export const contextAt = (now: string): LifecycleContext => ({
  config,
  now,
  after: scaledAfter(1),
});

/** Someone acting from Slack, named as the timeline names them. */
export const person = (display: string): Actor => ({ display, via: "slack" });

/** A command of `display`'s. */
export const command = (
  type: "acknowledge" | "resolve",
  display: string,
  detail?: string,
): CommandEvent =>
  type === "resolve" ? { type, actor: person(display), detail } : { type, actor: person(display) };

/** A snooze of `seconds` by `display`. */
export const snooze = (display: string, seconds: number): CommandEvent => ({
  type: "snooze",
  actor: person(display),
  seconds,
});

/**
 * A firing as ingest records it when nothing follows an opening (no escalation engine to
 * start): fire, then confirm the opening if it is this caller's to confirm.
 */
export async function fired(
  store: IncidentStore,
  candidate: IncidentWithTimeline,
): Promise<FiringOutcome> {
  const { toConfirm, previous: _, ...outcome } = await store.fire(candidate);
  if (toConfirm) await store.confirmOpening(candidate.fingerprint, outcome.incident.id);
  return outcome;
}

/** The guarded change of a decision; throws unless it is one. */
export function updateOf(decision: Decision): IncidentUpdate {
  if (decision.outcome !== "change" || decision.change.kind !== "update")
    throw new Error(`the decision is ${decision.outcome}, not a change of an incident`);
  return decision.change.update;
}

/**
 * The change `event` asks of `incident` at `now`, as the lifecycle decides it. Without
 * `mirrored` (no escalation engine will tell the channels) no state is owed, as the app
 * does without one (owedOnlyWithEngine). Throws when the lifecycle refuses it.
 */
export function changeOf(
  incident: IncidentWithTimeline,
  event: CommandEvent,
  now: string,
  { mirrored = false }: { mirrored?: boolean } = {},
): IncidentUpdate {
  const { owedState, ...update } = updateOf(decide(incident, event, contextAt(now)));
  return mirrored && owedState !== undefined ? { ...update, owedState } : update;
}

/**
 * A command on incident `id` as the app carries it (read → decide → apply; its effects on
 * the escalation engine left out): the incident as written. Throws when the lifecycle
 * refuses it (not found, in conflict) or the store's guard failed (a race).
 */
export async function act(
  store: IncidentStore,
  id: string,
  event: CommandEvent,
  now: string,
  options: { mirrored?: boolean } = {},
): Promise<IncidentWithTimeline> {
  const incident = await store.get(id);
  if (!incident) throw new Error(`no incident ${id}`);
  const { applied, incident: written } = await store.apply(
    id,
    changeOf(incident, event, now, options),
    incident,
  );
  if (!applied) throw new Error(`${event.type} of ${id} did not apply`);
  return written;
}

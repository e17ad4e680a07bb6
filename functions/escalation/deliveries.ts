import { systemClock } from "../adapters/clock.js";
import { channelKind } from "../core/channels.js";
import type { Config } from "../core/config.js";
import { type Attempted, deliveryEvents, recordOwed } from "../core/delivery-record.js";
import type { Incident, IncidentWithTimeline } from "../core/incident.js";
import type { IncidentStore } from "../core/incident-store.js";
import { decide } from "../core/lifecycle.js";
import { channelsOfOwed as channelsHeardOf } from "../core/lifecycle-engine.js";
import type { LinkMaker, OwedDelivery, SlackMessageRef } from "../core/notification.js";
import { filledRunbook, type RunbookDefinition } from "../core/runbook.js";
import { type DeliveryDeps, sendAll } from "../delivery/pipeline.js";
import { type DeliveryOf, slackMessageKey, toNotification } from "./notifications.js";
import { noteUnreachable } from "./unreachable.js";

export interface EscalationDeps extends DeliveryDeps {
  store: IncidentStore;
  config: Config;
  runbooks: readonly RunbookDefinition[];
  /** Signs the acknowledgement links of personal deliveries; unset: they go without links. */
  links?: LinkMaker | undefined;
}

function notificationOf(deps: EscalationDeps, incident: Incident, delivery: DeliveryOf) {
  return toNotification(
    {
      config: deps.config,
      links: deps.links,
      runbook: (i) => filledRunbook(deps.runbooks, deps.config.runbooks.baseUrl, i),
      now: (deps.clock ?? systemClock).now().toISOString(),
    },
    incident,
    delivery,
  );
}

/**
 * Every Slack message these deliveries posted in a channel where the incident had none, to
 * remember: one per channel (a route with two Slack channels keeps both, so that later levels
 * reply in each thread and a state change updates each message).
 */
function postedSlackMessages(incident: Incident, attempted: readonly Attempted[]) {
  const posted = new Map<string, SlackMessageRef>();
  for (const { notification, outcome } of attempted) {
    const key = slackMessageKey(notification.channelId);
    if (outcome.slackMessage && !incident.slackMessages[key] && !posted.has(key))
      posted.set(key, outcome.slackMessage);
  }
  return [...posted].map(([channelId, ref]) => ({ channelId, ref }));
}

/**
 * The PagerDuty incidents these deliveries opened (user mode), one per channel where the
 * incident had none: later levels reassign it and the mirror acknowledges it, instead of
 * opening another through PagerDuty's heavily rate-limited creation API.
 */
function openedPagerDutyIncidents(incident: Incident, attempted: readonly Attempted[]) {
  const opened = new Map<string, string>();
  for (const { notification, outcome } of attempted) {
    const { channelId } = notification;
    if (outcome.pagerDutyIncident && !incident.pagerDutyIncidents?.[channelId])
      opened.set(channelId, opened.get(channelId) ?? outcome.pagerDutyIncident);
  }
  return [...opened].map(([channelId, id]) => ({ channelId, id }));
}

const delivered = (attempted: readonly Attempted[]) =>
  attempted.filter((a) => a.outcome.status === "delivered").map((a) => a.notification.channelId);

/** Channels that may have heard of the incident from owed deliveries (see the core's channelsOfOwed). */
export function channelsOfOwed(
  deps: EscalationDeps,
  incident: Incident,
  owed: readonly OwedDelivery[],
): string[] {
  return channelsHeardOf(deps.config, incident, owed);
}

/**
 * Sends owed deliveries of a triggered incident (a claimed step's, or earlier ones due for
 * another attempt) and records each outcome at its own time in one write. A retryable
 * failure stays owed with its next attempt's time, until the give-up time. When the
 * incident was acknowledged or resolved while they were in flight, every page that went
 * out is followed by that state, to the same channel. Returns what is still owed and
 * whether the incident is still open.
 */
export async function deliverOwed(
  deps: EscalationDeps,
  incident: IncidentWithTimeline,
  owed: readonly OwedDelivery[],
): Promise<{ open: boolean; pending: OwedDelivery[] }> {
  if (owed.length === 0) return { open: true, pending: [] };
  const sendable = owed.flatMap((o) => {
    const notification = notificationOf(deps, incident, o);
    return notification ? [{ owed: o, notification }] : [];
  });
  const stillTriggered = async () => (await deps.store.get(incident.id))?.status === "triggered";
  const attempted = await sendAll(
    { ...deps, incidentId: incident.id },
    sendable.map((s) => s.notification),
    stillTriggered,
  );
  const { after: addTime } = deps.clock ?? systemClock;
  const records = attempted.map((a, i) => recordOwed(sendable[i]!.owed, a, addTime));
  const pending = records.flatMap((r) => (r.stillOwed ? [r.stillOwed] : []));
  // Each at its own time, in the order they ended.
  const events = records.flatMap((r) => r.events).sort((a, b) => a.at.localeCompare(b.at));
  // The lifecycle decides the record: one write while the incident is triggered; else the
  // outcomes are recorded all the same, the owed ones kept, and the channels told its state.
  const decision = decide(
    incident,
    {
      type: "deliveries_recorded",
      events,
      owed: [...owed],
      pending,
      delivered: delivered(attempted),
      slackMessages: postedSlackMessages(incident, attempted),
      pagerDutyIncidents: openedPagerDutyIncidents(incident, attempted),
    },
    { config: deps.config, now: (deps.clock ?? systemClock).now().toISOString(), after: addTime },
  );
  if (decision.outcome !== "change" || decision.change.kind !== "update")
    throw new Error("deliveries are recorded by one guarded change");
  const { incident: after } = await deps.store.apply(incident.id, decision.change.update);
  if (!after) return { open: false, pending: [] };
  if (after.status === "triggered")
    await noteUnreachable(deps, after, decision.change.update.append);
  if (after.status !== "triggered") {
    for (const effect of decision.otherwise ?? [])
      if (effect.type === "tell_state")
        await followWithState(deps, after, effect.channels, effect.owed, effect);
    return { open: false, pending: [] };
  }
  return { open: true, pending };
}

/**
 * The incident's state could not be told to some channels for a retryable reason (after the
 * Task's own attempts): thrown so that Step Functions runs the Task again, which tells them
 * again (what they are owed is kept until then).
 */
export class StateNotDeliveredError extends Error {
  override name = "StateNotDeliveredError";

  constructor(readonly channelIds: readonly string[]) {
    super(`the incident's state is not delivered to ${channelIds.join(", ")} yet`);
  }
}

/**
 * Tells `channelIds` the incident's state (acknowledged or resolved), records it, settles
 * the `owed` deliveries, and if the incident moved on meanwhile (acknowledged, then
 * resolved) tells them again: the last thing each channel hears is the incident's state,
 * and nothing sends an older state than the one stored when it reads. With `settlesState`
 * (a mirror, which tells every channel that heard), the owed state is settled too once
 * every channel has it. Each settles only while the state told is still the incident's.
 * Throws StateNotDeliveredError when a channel's last state failed for a retryable reason;
 * its owed deliveries, and the owed state, stay owed.
 */
export async function followWithState(
  deps: EscalationDeps,
  incident: IncidentWithTimeline,
  channelIds: readonly string[],
  owed: readonly OwedDelivery[],
  options: { settlesState?: boolean } = {},
): Promise<void> {
  let current = incident;
  const unsettled = [...owed];
  let undelivered: string[] = [];
  const channels = [...new Set(channelIds)].filter(
    (channelId) => channelKind(deps.config, channelId)?.mirrorsState,
  );
  // The state moves at most twice (acknowledged, resolved): a third round is never needed.
  for (let round = 0; round < 3 && current.status !== "triggered"; round++) {
    const stateOwed = options.settlesState === true && current.owedState !== undefined;
    const kind = current.status === "resolved" ? "resolve" : "acknowledge";
    const actor = (kind === "resolve" ? current.resolvedBy : current.acknowledgedBy) ?? undefined;
    const notifications = channels.flatMap((channelId) => {
      const notification = notificationOf(deps, current, {
        channelId,
        kind,
        level: current.level,
        recipients: [],
      });
      return notification ? [{ ...notification, actor }] : [];
    });
    if (notifications.length === 0 && unsettled.length === 0 && !stateOwed) break;
    const attempted = await sendAll({ ...deps, incidentId: current.id }, notifications);
    undelivered = attempted
      .filter((a) => a.outcome.status === "failed" && a.outcome.retryable)
      .map((a) => a.notification.channelId);
    const clock = deps.clock ?? systemClock;
    const decision = decide(
      current,
      {
        type: "state_told",
        events: attempted
          .flatMap((a) => deliveryEvents(a))
          .sort((a, b) => a.at.localeCompare(b.at)),
        settle: unsettled.filter((o) => !undelivered.includes(o.channelId)).map((o) => o.key),
        settlesState: stateOwed && undelivered.length === 0,
        slackMessages: postedSlackMessages(current, attempted),
      },
      { config: deps.config, now: clock.now().toISOString(), after: clock.after },
    );
    if (decision.outcome !== "change" || decision.change.kind !== "update") break;
    const { incident: after } = await deps.store.apply(current.id, decision.change.update);
    if (!after || after.status === current.status) break;
    // Moved on before the write: nothing was settled, and the channels are owed the new state.
    current = after;
  }
  if (undelivered.length > 0) throw new StateNotDeliveredError(undelivered);
}

import type { TimelineEvent } from "./incident.js";

/** What became of one notification. */
export type DeliveryState = "delivered" | "not_delivered" | "failed";

export interface DeliveryRecord {
  at: string;
  channel: string | null;
  target: string | null;
  state: DeliveryState;
  detail: string | null;
  /** A person's own delivery: who (config user id) and how; null for a channel's. */
  person: string | null;
  method: string | null;
  /** The provider's id for it: SNS message id, PagerDuty incident, Slack ts. */
  providerId: string | null;
}

/** A person the level named whom no contact method could reach. */
export interface UnreachablePerson {
  at: string;
  person: string;
  target: string | null;
  reason: string | null;
}

/** One level of an incident's escalation, as its timeline tells it. */
export interface LevelHistory {
  /** 0 is the first round of notifications when the incident opened; 1… the policy's levels. */
  level: number;
  /** When the level was reached: its `escalated` event, else its first notification. */
  reachedAt: string;
  /** Who the level was for, as the escalation recorded it (e.g. "to level 2: Bob Chen"). */
  escalation: string | null;
  deliveries: DeliveryRecord[];
  unreachable: UnreachablePerson[];
}

/**
 * What a delivery event says became of the notification: its `outcome`. A `notified` event
 * recorded before outcomes were typed covers both a real delivery and one skipped for want
 * of credentials, which its detail then calls "not delivered: …".
 */
export function deliveryState(event: TimelineEvent): DeliveryState | null {
  if (event.type === "notification_failed") return "failed";
  if (event.type !== "notified") return null;
  if (event.outcome) return event.outcome;
  return /\bnot delivered\b/.test(event.detail ?? "") ? "not_delivered" : "delivered";
}

/**
 * Groups the escalation part of a timeline by level, in the order levels were reached:
 * who each level was for, every notification with its channel, target, person, method,
 * provider id and outcome, and the people it could not reach.
 * Events without a level (a failure of the escalation itself) are not part of any level.
 */
export function escalationByLevel(timeline: readonly TimelineEvent[]): LevelHistory[] {
  const levels = new Map<number, LevelHistory>();
  const ordered = [...timeline].sort((a, b) => a.at.localeCompare(b.at));
  for (const event of ordered) {
    if (event.level === undefined) continue;
    const state = deliveryState(event);
    if (state === null && event.type !== "escalated" && event.type !== "unreachable") continue;
    let entry = levels.get(event.level);
    if (!entry) {
      entry = {
        level: event.level,
        reachedAt: event.at,
        escalation: null,
        deliveries: [],
        unreachable: [],
      };
      levels.set(event.level, entry);
    }
    if (event.type === "unreachable") {
      entry.unreachable.push({
        at: event.at,
        person: event.person ?? "",
        target: event.target ?? null,
        reason: event.detail ?? null,
      });
      continue;
    }
    if (event.type === "escalated") {
      entry.escalation ??= event.detail ?? null;
      if (event.at < entry.reachedAt) entry.reachedAt = event.at;
      continue;
    }
    entry.deliveries.push({
      at: event.at,
      channel: event.channel ?? null,
      target: event.target ?? null,
      state: state!,
      detail: event.detail ?? null,
      person: event.person ?? null,
      method: event.method ?? null,
      providerId: event.providerId ?? null,
    });
  }
  return [...levels.values()].sort(
    (a, b) => a.reachedAt.localeCompare(b.reachedAt) || a.level - b.level,
  );
}

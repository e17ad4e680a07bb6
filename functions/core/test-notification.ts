import { channelKind } from "./channels.js";
import type { Config } from "./config.js";
import type { EscalationPlan } from "./escalation.js";
import type { Incident } from "./incident.js";
import type { CommandEvent } from "./lifecycle-types.js";

/**
 * A sender's test notification (Grafana's contact point Test button) opens a test incident:
 * it shows the wiring works without waking anyone. The route's channels that only tell
 * (Slack, email) get one message marked as a test; no escalation level fires, so PagerDuty
 * and the people of the policy are never paged; then the incident resolves by itself.
 */

/** Who resolves a test incident, on its timeline and in its Slack message. */
export const TEST_RESOLVER = "tocsin";

/**
 * The only step of a test incident: a `trigger` to each of the route's channels that does not
 * page (CHANNEL_KINDS), nobody named, and no next step. Pure, like planEscalationStep.
 */
export function planTestNotification(incident: Incident, config: Config): EscalationPlan {
  const deliveries = incident.channels
    .filter((id) => {
      const kind = channelKind(config, id);
      return kind !== undefined && !kind.pages;
    })
    .map((channelId) => ({ channelId, kind: "trigger" as const, level: 0, recipients: [] }));
  return { step: 0, level: 0, reached: 0, cycle: 0, deliveries, events: [], next: null };
}

/** How a test incident resolves once its test notification is sent: by tocsin, saying why. */
export const TEST_RESOLUTION = {
  type: "resolve",
  actor: { display: TEST_RESOLVER, via: "tocsin" },
  detail: "Grafana test notification: resolved by itself once the test was sent; nobody was paged",
} as const satisfies CommandEvent;

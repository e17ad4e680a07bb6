import type { Config } from "../core/config.js";
import {
  type ContactTarget,
  destinationOf,
  parsePersonalChannelId,
  slackMessageKey,
} from "../core/contacts.js";
import type { Incident } from "../core/incident.js";
import type {
  LinkMaker,
  Notification,
  RunbookDetails,
  SlackMessageRef,
} from "../core/notification.js";

/** What a notification is made from: an owed delivery, or a state to tell a channel. */
export type DeliveryOf = Pick<Notification, "channelId" | "kind" | "level" | "recipients"> & {
  contact?: ContactTarget | undefined;
};

/** Where an incident keeps a channel's Slack message (`@<userId>` for a person's DMs). */
export { slackMessageKey } from "../core/contacts.js";

/**
 * The person and method of a personal channel, as the config knows them now: what a state
 * change is told to (owed deliveries carry their own contact). Null when the person or the
 * data is gone from the config.
 */
function contactNow(config: Config, channelId: string): ContactTarget | null {
  const personal = parsePersonalChannelId(channelId);
  if (!personal || !Object.hasOwn(config.users, personal.userId)) return null;
  const user = config.users[personal.userId]!;
  const address = { slack: user.slack, sms: user.phone, voice: user.phone, email: user.email }[
    personal.method
  ];
  if (!address) return null;
  return { userId: personal.userId, name: user.name, method: personal.method, address, rule: 0 };
}

export interface NotificationParts {
  config: Config;
  links?: LinkMaker | undefined;
  runbook: (incident: Incident) => RunbookDetails | null;
  /** ISO-8601: when the notification is made (links are good for their ttl from then). */
  now: string;
}

/** The signed links a personal notification carries: both, or none. */
function linksFor(
  parts: NotificationParts,
  incidentId: string,
  contact: ContactTarget | undefined,
): Notification["links"] {
  if (!contact || !parts.links) return undefined;
  const { userId } = contact;
  const acknowledge = parts.links({ incidentId, userId, action: "acknowledge" }, parts.now);
  const resolve = parts.links({ incidentId, userId, action: "resolve" }, parts.now);
  return acknowledge && resolve ? { acknowledge, resolve } : undefined;
}

/**
 * The notification of one delivery: to a config channel, or to a person's own contact
 * method (`@alice:sms`, with the person's signed links); null for a channel the config no
 * longer has.
 */
export function toNotification(
  parts: NotificationParts,
  incident: Incident,
  delivery: DeliveryOf,
): Notification | null {
  const personal = parsePersonalChannelId(delivery.channelId);
  const contact = personal
    ? (delivery.contact ?? contactNow(parts.config, delivery.channelId) ?? undefined)
    : undefined;
  const channel = personal
    ? contact && destinationOf(contact)
    : Object.hasOwn(parts.config.channels, delivery.channelId)
      ? parts.config.channels[delivery.channelId]
      : undefined;
  if (!channel) return null;
  const slackMessage: SlackMessageRef | null =
    incident.slackMessages[slackMessageKey(delivery.channelId)] ?? null;
  return {
    kind: delivery.kind,
    incident,
    level: delivery.level,
    channelId: delivery.channelId,
    channel,
    ...(contact ? { contact } : {}),
    ...(contact ? { links: linksFor(parts, incident.id, contact) } : {}),
    recipients: delivery.recipients,
    runbook: parts.runbook(incident),
    slackMessage,
    // PagerDuty user mode: the PagerDuty incident a level before opened, reassigned now.
    ...(personal
      ? {}
      : { pagerDutyIncident: incident.pagerDutyIncidents?.[delivery.channelId] ?? null }),
  };
}

import type { Config } from "./config.js";
import type { Delivery } from "./escalation.js";
import type { Destination, OwedDelivery, Recipient } from "./notification.js";

/**
 * How a person is reached: their contact methods and notification rules (PagerDuty's and
 * Opsgenie's model). A level that names a person sends one delivery per rule and usable
 * method, each at the rule's delay after the level fired, until someone acknowledges.
 */

export const CONTACT_METHODS = ["slack", "sms", "voice", "email"] as const;
export type ContactMethod = (typeof CONTACT_METHODS)[number];

/** `after` seconds after the level fires, reach the person by each method of `notify`. */
export interface NotificationRule {
  after: number;
  notify: ContactMethod[];
}

/** One person reached by one method under one of their rules. */
export interface ContactTarget {
  userId: string;
  name: string;
  method: ContactMethod;
  /** E.164 phone (sms, voice), Slack member id (slack) or email address (email). */
  address: string;
  /** The rule's index in the person's rules. */
  rule: number;
}

/** What each method needs of a person, and how the timeline says it is missing. */
const METHOD_ADDRESS: Readonly<
  Record<ContactMethod, { of: (r: Recipient) => string | undefined; missing: string }>
> = {
  slack: { of: (r) => r.slack, missing: "no Slack member id" },
  sms: { of: (r) => r.phone, missing: "no phone" },
  voice: { of: (r) => r.phone, missing: "no phone" },
  email: { of: (r) => r.email, missing: "no email" },
};

/** The person's notification rules, or the config's default ones. */
export function rulesOf(config: Config, userId: string): readonly NotificationRule[] {
  return config.users[userId]?.rules ?? config.notificationRules;
}

/**
 * The channel id of a personal delivery, `@alice:sms`: not a valid config channel name
 * (those start with a letter or digit), so it never collides with one.
 */
export function personalChannelId(userId: string, method: ContactMethod): string {
  return `@${userId}:${method}`;
}

/** The person and method of a personal channel id, or null for a config channel. */
export function parsePersonalChannelId(
  channelId: string,
): { userId: string; method: ContactMethod } | null {
  const match = /^@([^:]+):([a-z]+)$/.exec(channelId);
  if (!match) return null;
  const method = match[2] as ContactMethod;
  return CONTACT_METHODS.includes(method) ? { userId: match[1]!, method } : null;
}

/**
 * Where the incident's Slack message of a channel is kept (Incident.slackMessages): its own
 * id for a config channel, `@<userId>` for a person's DM (their first DM, with the buttons).
 */
export function slackMessageKey(channelId: string): string {
  const personal = parsePersonalChannelId(channelId);
  return personal?.method === "slack" ? `@${personal.userId}` : channelId;
}

/** Where a personal delivery goes: the person's Slack DM, phone or mailbox. */
export function destinationOf(contact: Pick<ContactTarget, "method" | "address">): Destination {
  switch (contact.method) {
    case "slack":
      return { type: "slack_dm", user: contact.address };
    case "sms":
      return { type: "sms", phone: contact.address };
    case "voice":
      return { type: "voice", phone: contact.address };
    case "email":
      return { type: "email", address: contact.address };
  }
}

/**
 * The deliveries that reach `recipient` when level `level` fires: one per rule and method
 * the person has the data for, with the rule's delay (`after`, seconds). `unreachable`
 * says why when no rule names a usable method: the level cannot reach this person at all.
 */
export function personalDeliveries(
  config: Config,
  recipient: Recipient,
  level: number,
  kind: Delivery["kind"] = "escalate",
): {
  deliveries: Array<Delivery & { contact: ContactTarget; after: number }>;
  unreachable: { reason: string } | null;
} {
  const rules = rulesOf(config, recipient.userId);
  const deliveries: Array<Delivery & { contact: ContactTarget; after: number }> = [];
  rules.forEach((rule, index) => {
    for (const method of rule.notify) {
      const address = METHOD_ADDRESS[method].of(recipient);
      if (!address) continue;
      deliveries.push({
        channelId: personalChannelId(recipient.userId, method),
        kind,
        level,
        recipients: [recipient],
        contact: { userId: recipient.userId, name: recipient.name, method, address, rule: index },
        after: rule.after,
      });
    }
  });
  if (deliveries.length > 0) return { deliveries, unreachable: null };
  const named = [...new Set(rules.flatMap((rule) => rule.notify))];
  const missing = [...new Set(named.map((method) => METHOD_ADDRESS[method].missing))];
  return {
    deliveries,
    unreachable: {
      reason: `no usable contact method: rules name ${named.join(", ")}; ${missing.join(", ")}`,
    },
  };
}

/**
 * Whether an owed delivery may have reached its person by `at` (an acknowledge's time):
 * attempted, or due by then. One whose rule's delay had not come yet was never sent, so
 * nobody needs telling that the incident was acknowledged.
 */
export function mayHaveBeenSent(owed: OwedDelivery, at: string): boolean {
  return owed.attempts > 0 || !owed.nextAttemptAt || owed.nextAttemptAt <= at;
}

import type { Config } from "./config.js";
import { destinationOf, parsePersonalChannelId, slackMessageKey } from "./contacts.js";
import type { Incident } from "./incident.js";
import type { Destination } from "./notification.js";

/**
 * What a kind of channel does, as a table (GoAlert's TypeInfo), so that code asks "does it
 * page?" rather than "is it PagerDuty?": a new kind (SMS, voice, Teams) is one row here.
 */
export interface ChannelKind {
  /** Pages people, waking them: a test notification never goes to it. */
  readonly pages?: true;
  /** Told when an incident it heard of is acknowledged or resolved. */
  readonly mirrorsState?: true;
  /**
   * Its mirror edits the message it posted (by the incident's slackMessages, contacts.ts
   * slackMessageKey): none, nothing to tell.
   */
  readonly mirrorsItsMessage?: true;
  /**
   * On an incident's route, it hears of every level the escalation reaches, naming whom the
   * level pages (Slack: a reply in the incident's thread; folded into the first message when
   * the first level fires at once).
   */
  readonly followsLevels?: true;
}

export const CHANNEL_KINDS = {
  pagerduty: { pages: true, mirrorsState: true },
  slack: { mirrorsState: true, mirrorsItsMessage: true, followsLevels: true },
  email: {},
  sms: {},
  voice: {},
  slack_dm: { mirrorsState: true, mirrorsItsMessage: true },
} as const satisfies Record<Destination["type"], ChannelKind>;

/**
 * The kind of a configured channel or of a person's channel (`@alice:slack` is a Slack DM);
 * undefined for a channel the config does not know.
 */
export function channelKind(config: Config, channelId: string): ChannelKind | undefined {
  const personal = parsePersonalChannelId(channelId);
  if (personal) {
    if (!config.users[personal.userId]) return undefined;
    return CHANNEL_KINDS[destinationOf({ method: personal.method, address: "" }).type];
  }
  const channel = Object.hasOwn(config.channels, channelId)
    ? config.channels[channelId]
    : undefined;
  return channel ? CHANNEL_KINDS[channel.type] : undefined;
}

/**
 * Whether a channel can be told the incident's state now, having perhaps heard of it: it
 * mirrors state, and where its mirror edits its message, that message is known.
 */
export function canMirror(config: Config, incident: Incident, channelId: string): boolean {
  const kind = channelKind(config, channelId);
  if (!kind?.mirrorsState) return false;
  return !kind.mirrorsItsMessage || !!incident.slackMessages[slackMessageKey(channelId)];
}

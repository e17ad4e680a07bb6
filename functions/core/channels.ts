import type { ChannelConfig, Config } from "./config.js";
import type { Incident } from "./incident.js";

/**
 * What a kind of channel does, as a table (GoAlert's TypeInfo), so that code asks "does it
 * page?" rather than "is it PagerDuty?": a new kind (SMS, voice, Teams) is one row here.
 */
export interface ChannelKind {
  /** Pages people, waking them: a test notification never goes to it. */
  readonly pages?: true;
  /** Told when an incident it heard of is acknowledged or resolved. */
  readonly mirrorsState?: true;
  /** Its mirror edits the message it posted (by the incident's slackMessages): none, nothing to tell. */
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
} as const satisfies Record<ChannelConfig["type"], ChannelKind>;

/** The kind of a configured channel; undefined for a channel the config does not know. */
export function channelKind(config: Config, channelId: string): ChannelKind | undefined {
  const channel = config.channels[channelId];
  return channel ? CHANNEL_KINDS[channel.type] : undefined;
}

/**
 * Whether a channel can be told the incident's state now, having perhaps heard of it: it
 * mirrors state, and where its mirror edits its message, that message is known.
 */
export function canMirror(config: Config, incident: Incident, channelId: string): boolean {
  const kind = channelKind(config, channelId);
  if (!kind?.mirrorsState) return false;
  return !kind.mirrorsItsMessage || !!incident.slackMessages[channelId];
}

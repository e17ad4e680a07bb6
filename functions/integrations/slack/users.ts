import type { Config } from "../../core/config.js";
import type { SlackUser } from "../../core/responders.js";

/**
 * How a Slack user appears on the timeline: the tocsin user when their Slack id is in the
 * config (`Alice Martin (alice)`), else the Slack name and id (`ada (Slack U024BE7LH)`).
 */
export function describeSlackUser(config: Config, user: SlackUser): string {
  const known = Object.entries(config.users).find(([, u]) => u.slack === user.id);
  if (known) return `${known[1].name} (${known[0]})`;
  return `${user.name ?? "someone"} (Slack ${user.id})`;
}

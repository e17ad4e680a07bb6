import type { Config } from "./config.js";

/** A Slack user as an interaction payload names them. */
export interface SlackUser {
  id: string;
  name?: string | undefined;
}

/**
 * How a Slack user appears on the timeline: the tocsin user when their Slack id is in the
 * config (`Alice Martin (alice)`), else the Slack name and id (`ada (Slack U024BE7LH)`).
 */
export function describeSlackUser(config: Config, user: SlackUser): string {
  const known = Object.entries(config.users).find(([, u]) => u.slack === user.id);
  if (known) return `${known[1].name} (${known[0]})`;
  return `${user.name ?? "someone"} (Slack ${user.id})`;
}

/** Whether a Slack user may act on the incidents of `team`, per the team's `responders`. */
export function mayRespond(config: Config, team: string, user: SlackUser): boolean {
  const rule = config.teams[team]?.responders ?? "anyone";
  if (rule === "anyone") return true;
  if (Array.isArray(rule)) return rule.includes(user.id);
  const definition = config.teams[team]!;
  const people = new Set<string>(definition.manager ? [definition.manager] : []);
  for (const schedule of Object.values(definition.schedules)) {
    for (const id of schedule.rotation.users) people.add(id);
    for (const override of schedule.overrides) people.add(override.user);
  }
  return [...people].some((id) => config.users[id]?.slack === user.id);
}

import type { Config } from "./config.js";

/** A Slack user as an interaction payload names them. */
export interface SlackUser {
  id: string;
  name?: string | undefined;
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

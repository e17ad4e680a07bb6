import { loadServiceFiles } from "../../functions/adapters/config-file.js";
import type { Config, UserConfig } from "../../functions/core/config.js";

/**
 * The shipped tocsin.yaml with ml-training's rotations pinned to one person each (`primary`,
 * and `secondary` if given), and these people's contact data and rules laid over theirs: the
 * config of the tests and benches that follow one person through their contact methods.
 */
export function peopleConfig(options: {
  primary: string;
  secondary?: string;
  users: Record<string, Partial<UserConfig>>;
}): Config {
  const { config } = loadServiceFiles("tocsin.yaml");
  const people: Config = structuredClone(config);
  const team = people.teams["ml-training"]!;
  team.schedules.primary!.rotation.users = [options.primary];
  if (options.secondary) team.schedules.secondary!.rotation.users = [options.secondary];
  for (const [id, user] of Object.entries(options.users))
    people.users[id] = { ...people.users[id]!, ...user } as UserConfig;
  return people;
}

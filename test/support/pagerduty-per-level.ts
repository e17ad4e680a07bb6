import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import type { Config } from "../../functions/core/config.js";
import { parseConfig } from "../../functions/core/yaml-files.js";

/**
 * tocsin.yaml with a PagerDuty service of its own for each level of the `standard` policy
 * (`pagerduty-level-1` … `-4`, each the target of its level) instead of one paged by every
 * level. A PagerDuty service is alerted once per incident (its own escalation policy pages
 * people from there), so with the shipped config only level 1 reaches PagerDuty; the engine's
 * tests (a Task that dies, a restart, a race with an acknowledge) need every level to make a
 * request they can hold, count and time: here each level sends a trigger of its own, whose
 * `custom_details.level` says which. The YAML text, for a file `npm start` reads.
 */
export function pagerDutyPerLevelYaml(runbooksDir?: string): string {
  const text = readFileSync(new URL("../../tocsin.yaml", import.meta.url), "utf8");
  const document = parseDocument(text);
  const policy = document.getIn(["escalationPolicies", "standard"], true) as {
    toJSON(): { levels: Array<{ targets: unknown[] }> };
  };
  const levels = policy.toJSON().levels;
  document.setIn(["escalationPolicies", "standard", "page"], []);
  levels.forEach((level, i) => {
    document.setIn(["channels", `pagerduty-level-${i + 1}`], { type: "pagerduty" });
    document.setIn(
      ["escalationPolicies", "standard", "levels", i, "targets"],
      [...level.targets, { channel: `pagerduty-level-${i + 1}` }],
    );
  });
  if (runbooksDir) document.setIn(["runbooks", "dir"], runbooksDir);
  return document.toString();
}

/** The same, parsed. */
export function pagerDutyPerLevel(): Config {
  return parseConfig(pagerDutyPerLevelYaml());
}

/** Whether a timeline event's channel is one of those services (or the shipped one). */
export const isPagerDutyChannel = (channel: string | undefined): boolean =>
  channel === "pagerduty" || (channel?.startsWith("pagerduty-level-") ?? false);

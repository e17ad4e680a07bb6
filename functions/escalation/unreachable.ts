import type { Logger } from "@aws-lambda-powertools/logger";
import type { Telemetry } from "../app/telemetry.js";
import type { Incident, TimelineEvent } from "../core/incident.js";
import { type IncidentStore, unreachableEntries } from "../core/incident-store.js";

/**
 * After a write that appended `unreachable` events (a claim: a person with no usable contact
 * method; a record: every method of a person failed): the escalation report's entries for
 * them, and the `people_unreachable` counter by team and level. Never throws: the timeline
 * has them already, and a lost report entry must not fail the escalation that pages others.
 */
export async function noteUnreachable(
  deps: { store: IncidentStore; telemetry?: Telemetry | undefined; logger: Logger },
  incident: Pick<Incident, "id" | "team">,
  appended: readonly TimelineEvent[] | undefined,
): Promise<void> {
  const entries = unreachableEntries(incident, appended ?? []);
  if (entries.length === 0) return;
  for (const entry of entries)
    deps.telemetry?.count("people_unreachable", 1, {
      team: entry.team,
      level: String(entry.level),
    });
  try {
    await deps.store.recordUnreachable(entries);
  } catch (error) {
    deps.logger.warn("the unreachable were not recorded for the report", {
      incidentId: incident.id,
      people: entries.map((e) => e.userId),
      error: (error as Error).message,
    });
  }
}

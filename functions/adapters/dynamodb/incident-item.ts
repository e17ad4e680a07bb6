import type {
  Incident,
  IncidentWithTimeline,
  TimelineEvent,
  Transition,
} from "../../core/incident.js";

/** The incident as stored: the domain fields plus keys for the table and its indexes. */
export interface IncidentItem extends IncidentWithTimeline {
  pk: string;
  sk: string;
  statusKey: string;
  teamKey: string;
  kind: "INCIDENT";
  createdKey: string;
  /** The last escalation step claimed: internal to the escalation's idempotence. */
  claimedStep?: number;
}

export function toIncidentItem(incident: IncidentWithTimeline): IncidentItem {
  return {
    ...incident,
    pk: `INC#${incident.id}`,
    sk: "INC",
    statusKey: `STATUS#${incident.status}`,
    teamKey: `TEAM#${incident.team}`,
    kind: "INCIDENT",
    createdKey: `${incident.createdAt}#${incident.id}`,
  };
}

/** The domain incident, without storage keys or timeline. */
export function toIncident(item: IncidentItem): Incident {
  const { pk, sk, statusKey, teamKey, kind, createdKey, timeline, claimedStep, ...incident } = item;
  return incident;
}

/**
 * A transition as one conditional UpdateItem: the changes, the status index key, and the
 * timeline event appended, only while the status is one the transition allows.
 */
export function transitionUpdate(transition: Transition) {
  const names: Record<string, string> = { "#status": "status", "#timeline": "timeline" };
  const values: Record<string, unknown> = {
    ":event": [transition.event] satisfies TimelineEvent[],
  };
  const sets = ["#timeline = list_append(#timeline, :event)"];
  const changes: Record<string, unknown> = { ...transition.changes };
  if (transition.changes.status) changes.statusKey = `STATUS#${transition.changes.status}`;
  for (const [field, value] of Object.entries(changes)) {
    if (field === "status") continue;
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    sets.push(`#${field} = :${field}`);
  }
  if (transition.changes.status) {
    values[":newStatus"] = transition.changes.status;
    sets.push("#status = :newStatus");
  }
  const from = transition.from.map((status, i) => {
    values[`:from${i}`] = status;
    return `:from${i}`;
  });
  return {
    UpdateExpression: `SET ${sets.join(", ")}`,
    ConditionExpression: `#status IN (${from.join(", ")})`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

import { type Labels, labelSet } from "../../core/alert.js";
import type {
  Incident,
  IncidentWithTimeline,
  OwedState,
  TimelineEvent,
  Transition,
} from "../../core/incident.js";
import type { DeliveryRecordOptions, IncidentStore } from "../../core/incident-store.js";
import type { OwedDelivery } from "../../core/notification.js";

/**
 * Labels and annotations as stored: a list of [name, value] pairs. Not a map: the SDK's
 * marshaller takes a map key `constructor` for a class and refuses it, and loses `__proto__`
 * both ways; a list of strings has no names to trip on. Items written before are maps.
 */
export type StoredLabels = Array<[string, string]> | Labels;

const storedLabels = (labels: Labels): Array<[string, string]> => Object.entries(labels);

const fromStored = (stored: StoredLabels | undefined): Labels =>
  labelSet(Array.isArray(stored) ? stored : Object.entries(stored ?? {}));

/**
 * A sender's values (Grafana's, by refId) are stored as [name, number] pairs, like labels;
 * items written before are maps.
 */
type StoredValues = Array<[string, number]> | Readonly<Record<string, number>> | null;

function valuesFromStored(stored: StoredValues): Incident["values"] {
  if (!stored) return stored;
  const values: Record<string, number> = Object.create(null);
  for (const [name, value] of Array.isArray(stored) ? stored : Object.entries(stored))
    values[name] = value;
  return values;
}

/** The incident as stored: the domain fields plus keys for the table and its indexes. */
export interface IncidentItem
  extends Omit<IncidentWithTimeline, "labels" | "annotations" | "values"> {
  labels: StoredLabels;
  annotations: StoredLabels;
  values?: StoredValues | undefined;
  pk: string;
  sk: string;
  statusKey: string;
  teamKey: string;
  kind: "INCIDENT";
  createdKey: string;
  /** When DynamoDB deletes it (TTL, epoch seconds). */
  expiresAt?: number;
  /** The last escalation step claimed: internal to the escalation's idempotence. */
  claimedStep?: number;
  /** The state still owed to the incident's channels: the key of the sparse OWED_STATE_INDEX. */
  owedState?: OwedState;
}

export const incidentKey = (id: string) => ({ pk: `INC#${id}`, sk: "INC" });

/**
 * Owed deliveries live in attributes of their own (`owed:<key>`), one each, so that a claim
 * adds them and each recorded outcome removes its own without rewriting the others.
 */
const OWED_PREFIX = "owed:";

/** The owed deliveries an incident item holds, in key order. */
export function owedOf(item: Record<string, unknown>): OwedDelivery[] {
  return Object.keys(item)
    .filter((name) => name.startsWith(OWED_PREFIX))
    .sort()
    .map((name) => item[name] as OwedDelivery);
}

/** The incident with its timeline, in the order written, and what it owes its channels if anything. */
export function toIncidentWithTimeline(item: IncidentItem): IncidentWithTimeline {
  const owed = owedOf(item as unknown as Record<string, unknown>);
  return {
    ...toIncident(item),
    timeline: item.timeline,
    ...(owed.length > 0 ? { owedDeliveries: owed } : {}),
    ...(item.owedState ? { owedState: item.owedState } : {}),
  };
}

/** SET clauses writing `owed` (names #o<i>, values :o<i>), for a claim or a record. */
function owedSets(
  owed: readonly OwedDelivery[],
  names: Record<string, string>,
  values: Record<string, unknown>,
): string[] {
  return owed.map((entry, i) => {
    names[`#o${i}`] = `${OWED_PREFIX}${entry.key}`;
    values[`:o${i}`] = entry;
    return `#o${i} = :o${i}`;
  });
}

/** Epoch seconds `retentionSeconds` after an ISO time: the TTL attribute's value. */
export function expiresAfter(iso: string, retentionSeconds: number): number {
  return Math.floor(Date.parse(iso) / 1000) + retentionSeconds;
}

export function toIncidentItem(
  incident: IncidentWithTimeline,
  retentionSeconds: number,
): IncidentItem {
  return {
    ...incident,
    labels: storedLabels(incident.labels),
    annotations: storedLabels(incident.annotations),
    values: incident.values ? Object.entries(incident.values) : incident.values,
    expiresAt: expiresAfter(incident.createdAt, retentionSeconds),
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
  const {
    pk,
    sk,
    statusKey,
    teamKey,
    kind,
    createdKey,
    timeline,
    claimedStep,
    owedState,
    expiresAt,
    labels,
    annotations,
    values,
    ...incident
  } = item;
  for (const name of Object.keys(incident))
    if (name.startsWith(OWED_PREFIX)) delete (incident as Record<string, unknown>)[name];
  return {
    ...incident,
    labels: fromStored(labels),
    annotations: fromStored(annotations),
    ...(values === undefined ? {} : { values: valuesFromStored(values) }),
  };
}

/**
 * A transition as one conditional UpdateItem: the changes, the status index key, the
 * timeline event appended and, for a change a mirror tells, the new status as owed, only
 * while the status is one the transition allows (and, for a snooze, while no snooze is running).
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
    if (transition.mirror && transition.changes.status !== "triggered")
      sets.push("owedState = :newStatus");
  }
  const from = transition.from.map((status, i) => {
    values[`:from${i}`] = status;
    return `:from${i}`;
  });
  let condition = `#status IN (${from.join(", ")})`;
  if (transition.unlessSnoozedAt) {
    names["#snoozedUntil"] = "snoozedUntil";
    values[":snoozedAt"] = transition.unlessSnoozedAt;
    condition += " AND NOT (#snoozedUntil > :snoozedAt)";
  }
  return {
    UpdateExpression: `SET ${sets.join(", ")}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** An escalation claim as one conditional UpdateItem (see IncidentStore.claimEscalationStep). */
export function escalationClaimUpdate(claim: Parameters<IncidentStore["claimEscalationStep"]>[1]) {
  const names: Record<string, string> = {
    "#status": "status",
    "#level": "level",
    "#timeline": "timeline",
  };
  const values: Record<string, unknown> = {
    ":step": claim.step,
    ":reached": claim.reached,
    ":level": claim.level,
    ":events": claim.events,
    ":triggered": "triggered",
    ":now": claim.now,
  };
  // claimedStep (internal) makes a retried Task harmless: each step is claimed once.
  const sets = [
    "claimedStep = :step",
    "escalationStep = :reached",
    "#level = :level",
    "#timeline = list_append(#timeline, :events)",
    ...owedSets(claim.owed ?? [], names, values),
  ];
  let condition =
    "#status = :triggered AND (attribute_not_exists(claimedStep) OR claimedStep < :step) AND NOT (snoozedUntil > :now)";
  if (claim.resume) {
    values[":base"] = claim.resume.baseAt;
    values[":null"] = null;
    sets.push("snoozedUntil = :null", "escalationBaseAt = :base");
    condition = "#status = :triggered AND snoozedUntil <= :now";
  }
  return {
    UpdateExpression: `SET ${sets.join(", ")}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * Delivery outcomes appended to an incident that exists, the owed deliveries they settle
 * (and the owed state) removed and those left for a later attempt rewritten (with
 * `whileStatus`, only while the incident has that status), and the channel's Slack message
 * remembered unless one is already kept. Returns the whole item as written.
 */
export function deliveriesUpdate(
  events: TimelineEvent[],
  record: DeliveryRecordOptions,
  settling: boolean,
) {
  const names: Record<string, string> = { "#timeline": "timeline" };
  const values: Record<string, unknown> = { ":events": events };
  const sets = ["#timeline = list_append(#timeline, :events)"];
  const removes: string[] = [];
  if (settling) {
    const rewritten = new Set((record.owed ?? []).map((entry) => entry.key));
    sets.push(...owedSets(record.owed ?? [], names, values));
    (record.settle ?? [])
      .filter((key) => !rewritten.has(key))
      .forEach((key, i) => {
        names[`#s${i}`] = `${OWED_PREFIX}${key}`;
        removes.push(`#s${i}`);
      });
    if (record.settleState) removes.push("owedState");
  }
  if (record.slackMessage) {
    names["#slack"] = "slackMessages";
    names["#channel"] = record.slackMessage.channelId;
    values[":ref"] = record.slackMessage.ref;
    sets.push("#slack.#channel = if_not_exists(#slack.#channel, :ref)");
  }
  let condition = "attribute_exists(pk)";
  if (settling && record.whileStatus) {
    names["#status"] = "status";
    values[":while"] = record.whileStatus;
    condition += " AND #status = :while";
  }
  return {
    UpdateExpression: `SET ${sets.join(", ")}${removes.length > 0 ? ` REMOVE ${removes.join(", ")}` : ""}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValues: "ALL_NEW" as const,
  };
}

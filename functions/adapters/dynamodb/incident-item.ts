import { type Labels, labelSet } from "../../core/alert.js";
import type { Incident, IncidentWithTimeline, OwedState } from "../../core/incident.js";
import type { StoredIncident } from "../../core/incident-update.js";
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
export const OWED_PREFIX = "owed:";

/**
 * The PagerDuty incidents of user-mode channels, one attribute each (`pd:<channelId>`), so
 * that an update sets one on an item written before they existed.
 */
export const PAGERDUTY_PREFIX = "pd:";

/** The PagerDuty incidents an item holds by channel id; undefined when none. */
function pagerDutyOf(item: Record<string, unknown>): Record<string, string> | undefined {
  const names = Object.keys(item).filter((name) => name.startsWith(PAGERDUTY_PREFIX));
  if (names.length === 0) return undefined;
  const map: Record<string, string> = {};
  for (const name of names.sort()) map[name.slice(PAGERDUTY_PREFIX.length)] = item[name] as string;
  return map;
}

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

/** Epoch seconds `retentionSeconds` after an ISO time: the TTL attribute's value. */
export function expiresAfter(iso: string, retentionSeconds: number): number {
  return Math.floor(Date.parse(iso) / 1000) + retentionSeconds;
}

export function toIncidentItem(
  incident: IncidentWithTimeline,
  retentionSeconds: number,
): IncidentItem {
  const { pagerDutyIncidents, ...rest } = incident;
  const pagerDuty = Object.fromEntries(
    Object.entries(pagerDutyIncidents ?? {}).map(([channelId, id]) => [
      `${PAGERDUTY_PREFIX}${channelId}`,
      id,
    ]),
  );
  return {
    ...rest,
    ...pagerDuty,
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
  const pagerDutyIncidents = pagerDutyOf(incident as unknown as Record<string, unknown>);
  for (const name of Object.keys(incident))
    if (name.startsWith(OWED_PREFIX) || name.startsWith(PAGERDUTY_PREFIX))
      delete (incident as Record<string, unknown>)[name];
  return {
    ...incident,
    ...(pagerDutyIncidents ? { pagerDutyIncidents } : {}),
    labels: fromStored(labels),
    annotations: fromStored(annotations),
    ...(values === undefined ? {} : { values: valuesFromStored(values) }),
  };
}

/** The incident as the store holds it: with its timeline, owed deliveries and claimedStep. */
export function toStoredIncident(item: IncidentItem): StoredIncident {
  const incident = toIncidentWithTimeline(item);
  return item.claimedStep === undefined ? incident : { ...incident, claimedStep: item.claimedStep };
}

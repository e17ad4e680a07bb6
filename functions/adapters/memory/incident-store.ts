import { labelSet } from "../../core/alert.js";
import {
  confirmEpisode,
  type DetachRule,
  detachEpisode,
  type Episode,
  type Firing,
  fireEpisode,
  followStatus,
  type OpenEpisode,
  withLiveCounters,
} from "../../core/episode.js";
import type {
  Incident,
  IncidentStatus,
  IncidentWithTimeline,
  OwedState,
} from "../../core/incident.js";
import {
  INCIDENT_SUMMARY_FIELDS,
  type IncidentPage,
  type IncidentQuery,
  type OwedStateRef,
  type ReportSlice,
  type UnreachableEntry,
} from "../../core/incident-store.js";
import { IncidentStoreBase } from "../../core/incident-store-base.js";
import {
  applyUpdate,
  type IncidentUpdate,
  type StoredIncident,
} from "../../core/incident-update.js";
import { REPORT_FIELDS, type ReportIncident } from "../../core/report.js";
import { openCursor, sealCursor } from "../cursor-envelope.js";
import { type MemoryStoreOptions, request, type StoreRequest } from "./requests.js";

export type { MemoryStoreOptions, StoreRequest };

/**
 * The incident store in memory: incidents and episodes in Maps, each primitive one
 * synchronous call of the core's rule (`fireEpisode`, `detachEpisode`, `applyUpdate`, ...).
 * Each request first yields one macrotask, so concurrent callers interleave between requests
 * as they do against DynamoDB. What it returns is a copy, as a database's answer would be.
 * For tests and for trying tocsin out; it keeps nothing across restarts.
 */
export class MemoryIncidentStore extends IncidentStoreBase {
  private readonly incidents = new Map<string, StoredIncident>();
  /** Unreachable entries by their sort key (see unreachableKey). */
  private readonly unreachable = new Map<string, UnreachableEntry>();
  private readonly episodes = new Map<string, Episode>();

  constructor(private readonly options: MemoryStoreOptions = {}) {
    super();
  }

  protected async writeFiring(fingerprint: string, firing: Firing): Promise<Episode | null> {
    await this.request("episode");
    return this.changeEpisode(fingerprint, (episode) => fireEpisode(episode, firing));
  }

  protected async writeConfirm(fingerprint: string, incidentId: string): Promise<void> {
    await this.request("episode");
    this.changeEpisode(fingerprint, (episode) => confirmEpisode(episode, incidentId));
  }

  protected async writeDetach(
    fingerprint: string,
    rule: DetachRule,
    startedAt: string,
  ): Promise<OpenEpisode | null> {
    await this.request("episode");
    const result = detachEpisode(this.episodes.get(fingerprint) ?? null, rule, startedAt);
    if (!result) return null;
    this.episodes.set(fingerprint, result.episode);
    return copy(result.detached);
  }

  protected async writeFollowStatus(
    fingerprint: string,
    incidentId: string,
    status: IncidentStatus,
  ): Promise<void> {
    await this.request("episode");
    this.changeEpisode(fingerprint, (episode) => followStatus(episode, incidentId, status));
  }

  protected async readEpisode(fingerprint: string): Promise<Episode | null> {
    await this.request("read");
    const episode = this.episodes.get(fingerprint);
    return episode ? copy(episode) : null;
  }

  protected async putIncidentIfAbsent(incident: IncidentWithTimeline): Promise<boolean> {
    await this.request("create");
    if (this.incidents.has(incident.id)) return false;
    this.incidents.set(incident.id, copy(incident));
    return true;
  }

  protected async writeUpdate(id: string, update: IncidentUpdate): Promise<StoredIncident | null> {
    await this.request("update");
    const outcome = applyUpdate(this.incidents.get(id) ?? null, update);
    if (!outcome.applied) return null;
    this.incidents.set(id, copy(outcome.incident));
    return copy(outcome.incident);
  }

  protected async readIncident(id: string): Promise<StoredIncident | null> {
    await this.request("read");
    const incident = this.incidents.get(id);
    return incident ? copy(this.live(incident)) : null;
  }

  async list(query: IncidentQuery): Promise<IncidentPage> {
    await this.request("query");
    const listing = listingOf(query);
    const after = query.cursor === undefined ? undefined : decodeCursor(listing, query.cursor);
    const matching = this.newestFirst(query.since, query.until).filter(
      (incident) =>
        (query.status === undefined || incident.status === query.status) &&
        (query.severity === undefined || incident.severity === query.severity) &&
        (query.team === undefined || incident.team === query.team) &&
        (query.level === undefined || incident.level === query.level) &&
        (query.minLevel === undefined || incident.level >= query.minLevel) &&
        (after === undefined || createdKey(incident) < after),
    );
    const page = matching.slice(0, query.limit);
    const more = matching.length > page.length && page.length > 0;
    return {
      incidents: page.map((incident) => copy(this.live(summary(incident)))),
      nextCursor: more ? encodeCursor(listing, createdKey(page.at(-1)!)) : null,
    };
  }

  async listForReport(range: {
    since: string;
    until: string;
    maxIncidents: number;
  }): Promise<ReportSlice> {
    await this.request("query");
    const covered = this.newestFirst(range.since, range.until);
    return {
      incidents: covered.slice(0, range.maxIncidents).map((incident) => {
        const fields = Object.fromEntries(REPORT_FIELDS.map((field) => [field, incident[field]]));
        return copy({ ...fields, ...(incident.test ? { test: true } : {}) } as ReportIncident);
      }),
      truncated: covered.length > range.maxIncidents,
    };
  }

  async owedStates(): Promise<OwedStateRef[]> {
    await this.request("query");
    const owed = [...this.incidents.values()].filter((incident) => incident.owedState);
    return OWED_STATES.flatMap((state) =>
      owed
        .filter((incident) => incident.owedState === state)
        .map((incident) => ({ id: incident.id, state })),
    );
  }

  async recordUnreachable(entries: readonly UnreachableEntry[]): Promise<void> {
    for (const entry of entries) {
      await this.request("update");
      this.unreachable.set(unreachableKey(entry), { ...entry });
    }
  }

  async listUnreachable(range: {
    since: string;
    until: string;
    limit: number;
  }): Promise<UnreachableEntry[]> {
    await this.request("query");
    const to = `${range.until}\uffff`;
    return [...this.unreachable.entries()]
      .filter(([key]) => key >= range.since && key <= to)
      .sort(([a], [b]) => compare(b, a))
      .slice(0, Math.max(0, range.limit))
      .map(([, entry]) => ({ ...entry }));
  }

  /** Incidents created in [since, until] (as DynamoDB's sort key ranges them), newest first. */
  private newestFirst(since?: string, until?: string): StoredIncident[] {
    const from = since ?? "";
    const to = `${until ?? "9999"}\uffff`;
    return [...this.incidents.values()]
      .filter((incident) => createdKey(incident) >= from && createdKey(incident) <= to)
      .sort((a, b) => compare(createdKey(b), createdKey(a)));
  }

  private live<T extends StoredIncident | Incident>(incident: T): T {
    return withLiveCounters(incident, this.episodes.get(incident.fingerprint));
  }

  private changeEpisode(
    fingerprint: string,
    change: (episode: Episode | null) => Episode | null,
  ): Episode | null {
    const changed = change(this.episodes.get(fingerprint) ?? null);
    if (changed) this.episodes.set(fingerprint, changed);
    return changed && copy(changed);
  }

  private request(kind: StoreRequest): Promise<void> {
    return request(this.options, kind);
  }
}

/** In the order DynamoDB's store lists them: by state. */
const OWED_STATES: readonly OwedState[] = ["acknowledged", "resolved"];

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** As DynamoDB sorts them (unreachable-items.ts): time, incident, level, person. */
const unreachableKey = (e: UnreachableEntry) => `${e.at}#${e.incidentId}#${e.level}#${e.userId}`;

/** What lists sort on, as DynamoDB's indexes do: creation time, then id. */
const createdKey = (incident: Pick<Incident, "createdAt" | "id">) =>
  `${incident.createdAt}#${incident.id}`;

/** A list page's incident: the summary fields only (as DynamoDB's indexes project them). */
function summary(incident: StoredIncident): Incident {
  const fields: Record<string, unknown> = {};
  for (const field of INCIDENT_SUMMARY_FIELDS) {
    if (incident[field] !== undefined) fields[field] = incident[field];
  }
  return { ...(fields as unknown as Incident), ...(incident.test ? { test: true } : {}) };
}

/**
 * What a database's copy of a value is like: undefined values dropped (as the DynamoDB
 * marshaller's removeUndefinedValues does), nothing shared with the caller, and label sets
 * as the core makes them (no prototype, so a label named `constructor` is only a label).
 */
function copy<T>(value: T): T {
  const copied = JSON.parse(JSON.stringify(value)) as T;
  const labelled = copied as Partial<Pick<Incident, "labels" | "annotations" | "values">>;
  if (labelled.labels) labelled.labels = labelSet(Object.entries(labelled.labels));
  if (labelled.annotations) labelled.annotations = labelSet(Object.entries(labelled.annotations));
  if (labelled.values) {
    const values: Record<string, number> = Object.create(null);
    for (const [name, number] of Object.entries(labelled.values)) values[name] = number;
    labelled.values = values;
  }
  return copied;
}

/** A listing's shape: a cursor of one listing is refused by every other. */
function listingOf(query: IncidentQuery): string {
  const { limit: _, cursor: __, ...shape } = query;
  return JSON.stringify(
    Object.entries(shape)
      .filter(([, value]) => value !== undefined)
      .sort(),
  );
}

const encodeCursor = (listing: string, after: string): string => sealCursor(listing, after);

const decodeCursor = (listing: string, cursor: string): string =>
  openCursor(listing, cursor, (k) => (typeof k === "string" ? undefined : "no key")) as string;

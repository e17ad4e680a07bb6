import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DetachRule, Episode, Firing, OpenEpisode } from "../../core/episode.js";
import type { IncidentStatus, IncidentWithTimeline } from "../../core/incident.js";
import type {
  IncidentPage,
  IncidentQuery,
  OwedStateRef,
  ReportSlice,
  UnreachableEntry,
} from "../../core/incident-store.js";
import { IncidentStoreBase } from "../../core/incident-store-base.js";
import type { IncidentUpdate, StoredIncident } from "../../core/incident-update.js";
import {
  readEpisode,
  withLiveCounters,
  writeConfirm,
  writeDetach,
  writeFiring,
  writeFollowStatus,
} from "./fingerprint-item.js";
import {
  type IncidentItem,
  incidentKey,
  toIncidentItem,
  toStoredIncident,
} from "./incident-item.js";
import { listForReport, listIncidents, listOwedStates } from "./incident-queries.js";
import { incidentUpdate } from "./incident-update.js";
import { TableClient } from "./table-client.js";
import { DEFAULT_RETENTION_SECONDS } from "./table-schema.js";
import { withTimelineRoom } from "./timeline-room.js";
import { listUnreachable, putUnreachable } from "./unreachable-items.js";

/**
 * The incident store on one DynamoDB table, with conditional single-item writes only (no
 * transactions: cheaper, and what dynalite supports). The write sequences are the base's;
 * each primitive here is one request, the core's rule translated into its expressions
 * (`fingerprint-item.ts`, `incident-update.ts`). A failed condition is "not written";
 * service faults are StoreUnavailableError (TableClient).
 */
export class DynamoIncidentStore extends IncidentStoreBase {
  private readonly table: TableClient;
  private readonly retentionSeconds: number;

  /** `retentionSeconds`: how long an incident and its timeline are kept (DynamoDB TTL). */
  constructor(
    client: DynamoDBClient,
    tableName: string,
    options: { retentionSeconds?: number } = {},
  ) {
    super();
    this.table = new TableClient(client, tableName);
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
  }

  protected writeFiring(fingerprint: string, firing: Firing): Promise<Episode | null> {
    return writeFiring(this.table, fingerprint, firing, this.retentionSeconds);
  }

  protected writeConfirm(fingerprint: string, incidentId: string): Promise<void> {
    return writeConfirm(this.table, fingerprint, incidentId);
  }

  protected writeDetach(
    fingerprint: string,
    rule: DetachRule,
    startedAt: string,
  ): Promise<OpenEpisode | null> {
    return writeDetach(this.table, fingerprint, rule, startedAt);
  }

  protected writeFollowStatus(
    fingerprint: string,
    incidentId: string,
    status: IncidentStatus,
  ): Promise<void> {
    return writeFollowStatus(this.table, fingerprint, incidentId, status);
  }

  protected readEpisode(fingerprint: string): Promise<Episode | null> {
    return readEpisode(this.table, fingerprint);
  }

  protected async putIncidentIfAbsent(incident: IncidentWithTimeline): Promise<boolean> {
    const written = await this.table.putIf({
      Item: toIncidentItem(incident, this.retentionSeconds),
      ConditionExpression: "attribute_not_exists(pk)",
    });
    return written !== undefined;
  }

  /** One UpdateItem; when the timeline has filled the 400 KB item, room is made and it is sent again. */
  protected async writeUpdate(id: string, update: IncidentUpdate): Promise<StoredIncident | null> {
    const written = await withTimelineRoom(this.table, id, () =>
      this.table.updateIf({ Key: incidentKey(id), ...incidentUpdate(update) }),
    );
    return written ? toStoredIncident(written.Attributes as IncidentItem) : null;
  }

  protected async readIncident(id: string): Promise<StoredIncident | null> {
    const item = (await this.table.get(incidentKey(id))) as IncidentItem | undefined;
    if (!item) return null;
    const [incident] = await withLiveCounters(this.table, [item]);
    return { ...toStoredIncident(item), ...incident! };
  }

  list(query: IncidentQuery): Promise<IncidentPage> {
    return listIncidents(this.table, query);
  }

  listForReport(range: {
    since: string;
    until: string;
    maxIncidents: number;
  }): Promise<ReportSlice> {
    return listForReport(this.table, range);
  }

  owedStates(): Promise<OwedStateRef[]> {
    return listOwedStates(this.table);
  }

  recordUnreachable(entries: readonly UnreachableEntry[]): Promise<void> {
    return putUnreachable(this.table, entries, this.retentionSeconds);
  }

  listUnreachable(range: {
    since: string;
    until: string;
    limit: number;
  }): Promise<UnreachableEntry[]> {
    if (range.limit <= 0) return Promise.resolve([]);
    return listUnreachable(this.table, range);
  }
}

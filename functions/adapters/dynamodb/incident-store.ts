import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IncidentConflictError, IncidentNotFoundError } from "../../core/errors.js";
import type {
  Incident,
  IncidentWithTimeline,
  TimelineEvent,
  Transition,
} from "../../core/incident.js";
import type {
  DeliveryRecordOptions,
  FiringOutcome,
  IncidentPage,
  IncidentQuery,
  IncidentStore,
  OwedStateRef,
  ReportSlice,
} from "../../core/incident-store.js";
import {
  claimFingerprint,
  commitFingerprint,
  detachFingerprint,
  getFingerprint,
  mirrorStatus,
  unlessLaterEpisode,
  whileAttached,
  withLiveCounters,
} from "./fingerprint-item.js";
import {
  deliveriesUpdate,
  escalationClaimUpdate,
  type IncidentItem,
  incidentKey,
  toIncidentItem,
  toIncidentWithTimeline,
  transitionUpdate,
} from "./incident-item.js";
import { listForReport, listIncidents, listOwedStates } from "./incident-queries.js";
import { TableClient } from "./table-client.js";
import { DEFAULT_RETENTION_SECONDS } from "./table-schema.js";
import { withTimelineRoom } from "./timeline-room.js";

/**
 * The incident store on one DynamoDB table, with conditional single-item writes only (no
 * transactions: cheaper, and what dynalite supports). Request costs:
 * a duplicate is one UpdateItem; a new incident three writes (fingerprint, incident,
 * commit); a resolve two (fingerprint, incident). A creation interrupted half-way is finished
 * by whichever delivery of the same fingerprint comes next.
 */
export class DynamoIncidentStore implements IncidentStore {
  private readonly table: TableClient;
  private readonly retentionSeconds: number;

  /** `retentionSeconds`: how long an incident and its timeline are kept (DynamoDB TTL). */
  constructor(
    client: DynamoDBClient,
    tableName: string,
    options: { retentionSeconds?: number } = {},
  ) {
    this.table = new TableClient(client, tableName);
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
  }

  async recordFiring(
    candidate: IncidentWithTimeline,
    onOpen?: (incident: IncidentWithTimeline) => Promise<void>,
  ): Promise<FiringOutcome> {
    const fingerprint = await claimFingerprint(this.table, candidate, this.retentionSeconds);
    if (!fingerprint) {
      // A late firing of the episode resolved last: it answers that incident, opens nothing.
      const stale = await getFingerprint(this.table, candidate.fingerprint);
      return { incident: { id: stale!.lastIncidentId!, status: "resolved" }, created: false };
    }
    const openId = fingerprint.openIncidentId!;
    if (fingerprint.committedIncidentId === openId) {
      return {
        incident: { id: openId, status: fingerprint.incidentStatus as Incident["status"] },
        created: false,
      };
    }
    // Creation is ours, or someone else's that may have died half-way: either way, finish it.
    const incident = {
      ...candidate,
      id: openId,
      createdAt: fingerprint.openedAt ?? candidate.createdAt,
    };
    const created = await this.createIncident(incident);
    await onOpen?.(incident);
    await commitFingerprint(this.table, candidate.fingerprint, openId);
    return { incident: { id: openId, status: "triggered" }, created };
  }

  async resolveFingerprint(candidate: IncidentWithTimeline, transition: Transition) {
    const previous = await detachFingerprint(
      this.table,
      candidate.fingerprint,
      candidate.startedAt,
      unlessLaterEpisode,
    );
    if (!previous) {
      // Nothing open, or a later episode open: this resolve is a repeat (whose second write
      // may not have happened) or late; either way it concerns the last incident.
      const fingerprint = await getFingerprint(this.table, candidate.fingerprint);
      if (!fingerprint?.lastIncidentId) return null;
      return this.applyIdempotently(fingerprint.lastIncidentId, transition);
    }
    const id = previous.openIncidentId!;
    if (previous.committedIncidentId !== id) {
      // Detached before its creation finished: write the incident so the resolve has one.
      await this.createIncident({
        ...candidate,
        id,
        createdAt: previous.openedAt ?? candidate.createdAt,
      });
    }
    return this.applyIdempotently(
      id,
      withCounters(transition, {
        occurrences: previous.occurrences ?? 1,
        lastSeenAt: previous.lastSeenAt ?? transition.event.at,
        truncatedAlerts: previous.truncatedAlerts,
      }),
    );
  }

  async get(id: string): Promise<IncidentWithTimeline | null> {
    const item = (await this.table.get(incidentKey(id))) as IncidentItem | undefined;
    if (!item) return null;
    const [incident] = await withLiveCounters(this.table, [item]);
    return { ...toIncidentWithTimeline(item), ...incident! };
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

  async claimEscalationStep(
    id: string,
    claim: Parameters<IncidentStore["claimEscalationStep"]>[1],
  ): Promise<boolean> {
    const claimed = await this.appending(id, () =>
      this.table.updateIf({ Key: incidentKey(id), ...escalationClaimUpdate(claim) }),
    );
    return claimed !== undefined;
  }

  async applyTransition(incident: Incident, transition: Transition): Promise<IncidentWithTimeline> {
    let final = transition;
    if (transition.changes.status === "resolved") {
      // Free the fingerprint first; a crash before the incident write leaves a retry to finish it.
      // Only if this incident is still attached; then its live counters come back.
      const freed = await detachFingerprint(
        this.table,
        incident.fingerprint,
        incident.startedAt,
        whileAttached(incident.id),
      );
      if (freed) {
        final = withCounters(transition, {
          occurrences: freed.occurrences ?? incident.occurrences,
          lastSeenAt: freed.lastSeenAt ?? incident.lastSeenAt,
          truncatedAlerts: freed.truncatedAlerts,
        });
      }
    }
    const written = await this.appending(incident.id, () =>
      this.table.updateIf({
        Key: incidentKey(incident.id),
        ...transitionUpdate(final),
        ReturnValues: "ALL_NEW",
      }),
    );
    if (!written) {
      const current = await this.get(incident.id);
      if (!current) throw new IncidentNotFoundError(incident.id);
      throw new IncidentConflictError(
        incident.id,
        current.status,
        `the incident is ${current.status}`,
      );
    }
    const item = written.Attributes as IncidentItem;
    if (transition.changes.status === "acknowledged")
      await mirrorStatus(this.table, incident, "acknowledged");
    return toIncidentWithTimeline(item);
  }

  async recordDeliveries(id: string, events: TimelineEvent[], record: DeliveryRecordOptions = {}) {
    const write = (settling: boolean) =>
      this.appending(id, () =>
        this.table.updateIf({
          Key: incidentKey(id),
          ...deliveriesUpdate(events, record, settling),
        }),
      );
    // The status moved on: the outcomes are recorded all the same, the owed ones kept.
    const written = (await write(true)) ?? (record.whileStatus ? await write(false) : undefined);
    return written ? toIncidentWithTimeline(written.Attributes as IncidentItem) : null;
  }

  /** A write that appends to the incident's timeline, with room made when it is full. */
  private appending<T>(id: string, write: () => Promise<T>): Promise<T> {
    return withTimelineRoom(this.table, id, write);
  }

  /** Writes the incident item unless it exists; true when this call wrote it. */
  private async createIncident(incident: IncidentWithTimeline): Promise<boolean> {
    const written = await this.table.putIf({
      Item: toIncidentItem(incident, this.retentionSeconds),
      ConditionExpression: "attribute_not_exists(pk)",
    });
    return written !== undefined;
  }

  /** Applies a transition; one that the incident's state no longer allows is a no-op. */
  private async applyIdempotently(id: string, transition: Transition) {
    const written = await this.appending(id, () =>
      this.table.updateIf({
        Key: incidentKey(id),
        ...transitionUpdate(transition),
        ReturnValues: "ALL_NEW",
      }),
    );
    const current = written ? (written.Attributes as IncidentItem) : await this.get(id);
    if (!current) throw new IncidentNotFoundError(id);
    const { status, channels, escalationPolicy } = current;
    return { id, status, channels, escalationPolicy };
  }
}

/** The transition with the counters the fingerprint item kept while the incident was open. */
function withCounters(
  transition: Transition,
  counters: { occurrences: number; lastSeenAt: string; truncatedAlerts?: number | undefined },
): Transition {
  const { truncatedAlerts, ...always } = counters;
  const truncation = truncatedAlerts === undefined ? {} : { truncatedAlerts };
  return { ...transition, changes: { ...transition.changes, ...always, ...truncation } };
}

import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  IncidentConflictError,
  IncidentNotFoundError,
  StoreUnavailableError,
} from "../../core/errors.js";
import type {
  Incident,
  IncidentWithTimeline,
  TimelineEvent,
  Transition,
} from "../../core/incident.js";
import type {
  FiringOutcome,
  IncidentPage,
  IncidentQuery,
  IncidentStore,
  ReportSlice,
} from "../../core/incident-store.js";
import type { SlackMessageRef } from "../../core/notification.js";
import { REPORT_FIELDS, type ReportIncident } from "../../core/report.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import {
  type IncidentItem,
  toIncident,
  toIncidentItem,
  transitionUpdate,
} from "./incident-item.js";
import { INDEXES } from "./table-schema.js";

/** The fingerprint item: which incident is open for it, and that incident's live counters. */
interface FingerprintItem {
  openIncidentId?: string;
  /** Set once the incident item is written; differs from openIncidentId while creation is under way. */
  committedIncidentId?: string;
  incidentStatus?: string;
  openedAt?: string;
  lastSeenAt?: string;
  occurrences?: number;
  lastIncidentId?: string;
  /** The sender's startsAt of the open alert episode, and of the last resolved one. */
  openStartedAt?: string;
  resolvedStartedAt?: string;
}

const fingerprintKey = (fingerprint: string) => ({ pk: `FP#${fingerprint}`, sk: "FP" });
const incidentKey = (id: string) => ({ pk: `INC#${id}`, sk: "INC" });

/** Most queries one list page may take when filters discard most of what an index returns. */
const MAX_QUERIES_PER_PAGE = 10;
const BATCH_GET_LIMIT = 100;

/**
 * The incident store on one DynamoDB table, with conditional single-item writes only (no
 * transactions: cheaper, and what dynalite supports). Request costs:
 * a duplicate is one UpdateItem; a new incident three writes (fingerprint, incident,
 * commit); a resolve two (fingerprint, incident). A creation interrupted half-way is finished
 * by whichever delivery of the same fingerprint comes next.
 */
export class DynamoIncidentStore implements IncidentStore {
  private readonly db: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.db = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
  }

  async recordFiring(
    candidate: IncidentWithTimeline,
    onOpen?: (incident: IncidentWithTimeline) => Promise<void>,
  ): Promise<FiringOutcome> {
    let fingerprint: FingerprintItem;
    try {
      const { Attributes } = await this.call(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: fingerprintKey(candidate.fingerprint),
            UpdateExpression:
              "SET openIncidentId = if_not_exists(openIncidentId, :id), incidentStatus = if_not_exists(incidentStatus, :status), " +
              "openedAt = if_not_exists(openedAt, :now), openStartedAt = if_not_exists(openStartedAt, :startedAt), " +
              "lastSeenAt = :now ADD occurrences :one",
            // A firing delivery of an episode already resolved (a late retry, an HA peer
            // lagging) must not open a new incident: a new episode starts later.
            ConditionExpression:
              "attribute_exists(openIncidentId) OR attribute_not_exists(resolvedStartedAt) OR resolvedStartedAt < :startedAt",
            ExpressionAttributeValues: {
              ":id": candidate.id,
              ":status": candidate.status,
              ":now": candidate.createdAt,
              ":startedAt": candidate.startedAt,
              ":one": 1,
            },
            ReturnValues: "ALL_NEW",
          }),
        ),
      );
      fingerprint = Attributes as FingerprintItem;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const stale = await this.getFingerprint(candidate.fingerprint);
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
    await this.commit(candidate.fingerprint, openId);
    return { incident: { id: openId, status: "triggered" }, created };
  }

  async resolveFingerprint(candidate: IncidentWithTimeline, transition: Transition) {
    let previous: FingerprintItem;
    try {
      const { Attributes } = await this.call(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: fingerprintKey(candidate.fingerprint),
            UpdateExpression:
              "SET lastIncidentId = openIncidentId, resolvedStartedAt = if_not_exists(openStartedAt, :startedAt) " +
              "REMOVE openIncidentId, committedIncidentId, incidentStatus, openedAt, occurrences, openStartedAt",
            // A late resolve of an earlier episode must not close the episode open now.
            ConditionExpression:
              "attribute_exists(openIncidentId) AND (attribute_not_exists(openStartedAt) OR openStartedAt <= :startedAt)",
            ExpressionAttributeValues: { ":startedAt": candidate.startedAt },
            ReturnValues: "ALL_OLD",
          }),
        ),
      );
      previous = Attributes as FingerprintItem;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Nothing open, or a later episode open: this resolve is a repeat (whose second write
      // may not have happened) or late; either way it concerns the last incident.
      const fingerprint = await this.getFingerprint(candidate.fingerprint);
      if (!fingerprint?.lastIncidentId) return null;
      return this.applyIdempotently(fingerprint.lastIncidentId, transition);
    }
    const id = previous.openIncidentId!;
    if (previous.committedIncidentId !== id) {
      await this.createIncident({
        ...candidate,
        id,
        createdAt: previous.openedAt ?? candidate.createdAt,
      });
    }
    const final: Transition = {
      ...transition,
      changes: {
        ...transition.changes,
        occurrences: previous.occurrences ?? 1,
        lastSeenAt: previous.lastSeenAt ?? transition.event.at,
      },
    };
    return this.applyIdempotently(id, final);
  }

  async get(id: string): Promise<IncidentWithTimeline | null> {
    const { Item } = await this.call(() =>
      this.db.send(
        new GetCommand({ TableName: this.tableName, Key: incidentKey(id), ConsistentRead: true }),
      ),
    );
    if (!Item) return null;
    const [incident] = await this.withLiveCounters([Item as IncidentItem]);
    return { ...incident!, timeline: (Item as IncidentItem).timeline };
  }

  async list(query: IncidentQuery): Promise<IncidentPage> {
    const { index, partition, filters } = chooseIndex(query);
    const names: Record<string, string> = { "#pk": index.partition };
    const values: Record<string, unknown> = { ":pk": partition };
    let keyCondition = "#pk = :pk";
    if (query.since || query.until) {
      values[":from"] = query.since ?? "";
      values[":to"] = `${query.until ?? "9999"}\uffff`;
      names["#sk"] = index.sort;
      keyCondition += " AND #sk BETWEEN :from AND :to";
    }
    const conditions = Object.entries(filters).map(([field, value]) => {
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      return `#${field} = :${field}`;
    });
    if (query.minLevel !== undefined) {
      names["#level"] = "level";
      values[":minLevel"] = query.minLevel;
      conditions.push("#level >= :minLevel");
    }
    const items: IncidentItem[] = [];
    let startKey = query.cursor ? decodeCursor(query.cursor) : undefined;
    for (let queries = 0; queries < MAX_QUERIES_PER_PAGE && items.length < query.limit; queries++) {
      const page = await this.call(() =>
        this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index.name,
            KeyConditionExpression: keyCondition,
            FilterExpression: conditions.length > 0 ? conditions.join(" AND ") : undefined,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ScanIndexForward: false,
            Limit: query.limit - items.length,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      items.push(...((page.Items ?? []) as IncidentItem[]));
      startKey = page.LastEvaluatedKey;
      if (!startKey) break;
    }
    return {
      incidents: await this.withLiveCounters(items),
      nextCursor: startKey ? encodeCursor(startKey) : null,
    };
  }

  /**
   * One Query on byTime over the range, paged internally (each page up to 1 MB of the
   * projected fields: a few thousand incidents), newest first. No Scan, no timelines.
   */
  async listForReport(range: {
    since: string;
    until: string;
    maxIncidents: number;
  }): Promise<ReportSlice> {
    const index = INDEXES.byTime;
    const names: Record<string, string> = { "#pk": index.partition, "#sk": index.sort };
    for (const field of REPORT_FIELDS) names[`#${field}`] = field;
    const incidents: ReportIncident[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.call(() =>
        this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index.name,
            KeyConditionExpression: "#pk = :pk AND #sk BETWEEN :from AND :to",
            ProjectionExpression: REPORT_FIELDS.map((field) => `#${field}`).join(", "),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: {
              ":pk": "INCIDENT",
              ":from": range.since,
              ":to": `${range.until}\uffff`,
            },
            ScanIndexForward: false,
            Limit: Math.min(range.maxIncidents + 1 - incidents.length, 10_000),
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      incidents.push(...((page.Items ?? []) as ReportIncident[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey && incidents.length <= range.maxIncidents);
    const truncated = incidents.length > range.maxIncidents;
    return { incidents: incidents.slice(0, range.maxIncidents), truncated };
  }

  async claimEscalationStep(
    id: string,
    claim: {
      step: number;
      reached: number;
      level: number;
      events: TimelineEvent[];
      now: string;
      resume?: { baseAt: string } | undefined;
    },
  ): Promise<boolean> {
    const values: Record<string, unknown> = {
      ":step": claim.step,
      ":reached": claim.reached,
      ":level": claim.level,
      ":events": claim.events,
      ":triggered": "triggered",
      ":now": claim.now,
    };
    // claimedStep (internal) makes a retried Task harmless: each step is claimed once.
    let update =
      "SET claimedStep = :step, escalationStep = :reached, #level = :level, #timeline = list_append(#timeline, :events)";
    let condition =
      "#status = :triggered AND (attribute_not_exists(claimedStep) OR claimedStep < :step) AND NOT (snoozedUntil > :now)";
    if (claim.resume) {
      values[":base"] = claim.resume.baseAt;
      values[":null"] = null;
      update += ", snoozedUntil = :null, escalationBaseAt = :base";
      condition = "#status = :triggered AND snoozedUntil <= :now";
    }
    try {
      await this.call(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: incidentKey(id),
            UpdateExpression: update,
            ConditionExpression: condition,
            ExpressionAttributeNames: {
              "#status": "status",
              "#level": "level",
              "#timeline": "timeline",
            },
            ExpressionAttributeValues: values,
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async applyTransition(incident: Incident, transition: Transition): Promise<IncidentWithTimeline> {
    let final = transition;
    if (transition.changes.status === "resolved") {
      // Free the fingerprint first; a crash before the incident write leaves a retry to finish it.
      const freed = await this.freeFingerprint(incident);
      if (freed) {
        final = {
          ...transition,
          changes: {
            ...transition.changes,
            occurrences: freed.occurrences ?? incident.occurrences,
            lastSeenAt: freed.lastSeenAt ?? incident.lastSeenAt,
          },
        };
      }
    }
    try {
      const { Attributes } = await this.call(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: incidentKey(incident.id),
            ...transitionUpdate(final),
            ReturnValues: "ALL_NEW",
          }),
        ),
      );
      const item = Attributes as IncidentItem;
      if (transition.changes.status === "acknowledged")
        await this.mirrorStatus(incident, "acknowledged");
      return { ...toIncident(item), timeline: item.timeline };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.get(incident.id);
      if (!current) throw new IncidentNotFoundError(incident.id);
      throw new IncidentConflictError(
        incident.id,
        current.status,
        `the incident is ${current.status}`,
      );
    }
  }

  /** Detaches the incident from its fingerprint (if still attached); its live counters come back. */
  private async freeFingerprint(incident: Incident): Promise<FingerprintItem | null> {
    try {
      const { Attributes } = await this.call(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: fingerprintKey(incident.fingerprint),
            UpdateExpression:
              "SET lastIncidentId = openIncidentId, resolvedStartedAt = if_not_exists(openStartedAt, :startedAt) " +
              "REMOVE openIncidentId, committedIncidentId, incidentStatus, openedAt, occurrences, openStartedAt",
            ConditionExpression: "openIncidentId = :id",
            ExpressionAttributeValues: { ":id": incident.id, ":startedAt": incident.startedAt },
            ReturnValues: "ALL_OLD",
          }),
        ),
      );
      return Attributes as FingerprintItem;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  /** Keeps the fingerprint's copy of the status (what duplicates answer) in step. */
  private async mirrorStatus(incident: Incident, status: string): Promise<void> {
    try {
      await this.call(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: fingerprintKey(incident.fingerprint),
            UpdateExpression: "SET incidentStatus = :status",
            ConditionExpression: "openIncidentId = :id",
            ExpressionAttributeValues: { ":id": incident.id, ":status": status },
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async recordDeliveries(
    id: string,
    events: TimelineEvent[],
    slackMessage?: { channelId: string; ref: SlackMessageRef },
  ) {
    const names: Record<string, string> = { "#timeline": "timeline" };
    const values: Record<string, unknown> = { ":events": events };
    let update = "SET #timeline = list_append(#timeline, :events)";
    if (slackMessage) {
      names["#slack"] = "slackMessages";
      names["#channel"] = slackMessage.channelId;
      values[":ref"] = slackMessage.ref;
      update += ", #slack.#channel = if_not_exists(#slack.#channel, :ref)";
    }
    await this.call(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: incidentKey(id),
          UpdateExpression: update,
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  /** Writes the incident item unless it exists; true when this call wrote it. */
  private async createIncident(incident: IncidentWithTimeline): Promise<boolean> {
    try {
      await this.call(() =>
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: toIncidentItem(incident),
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private async commit(fingerprint: string, id: string): Promise<void> {
    try {
      await this.call(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: fingerprintKey(fingerprint),
            UpdateExpression: "SET committedIncidentId = :id",
            ConditionExpression: "openIncidentId = :id",
            ExpressionAttributeValues: { ":id": id },
          }),
        ),
      );
    } catch (error) {
      // Resolved meanwhile: nothing left to commit.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Applies a transition; one that the incident's state no longer allows is a no-op. */
  private async applyIdempotently(id: string, transition: Transition) {
    try {
      const { Attributes } = await this.call(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: incidentKey(id),
            ...transitionUpdate(transition),
            ReturnValues: "ALL_NEW",
          }),
        ),
      );
      const { status, channels, escalationPolicy } = Attributes as IncidentItem;
      return { id, status, channels, escalationPolicy };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.get(id);
      if (!current) throw new IncidentNotFoundError(id);
      return {
        id,
        status: current.status,
        channels: current.channels,
        escalationPolicy: current.escalationPolicy,
      };
    }
  }

  private async getFingerprint(fingerprint: string): Promise<FingerprintItem | undefined> {
    const { Item } = await this.call(() =>
      this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: fingerprintKey(fingerprint),
          ConsistentRead: true,
        }),
      ),
    );
    return Item as FingerprintItem | undefined;
  }

  /** Open incidents count their duplicates on the fingerprint item; merge those in (one BatchGet). */
  private async withLiveCounters(items: IncidentItem[]): Promise<Incident[]> {
    const open = items.filter((item) => item.status !== "resolved");
    const live = new Map<string, FingerprintItem>();
    const keys = [...new Set(open.map((item) => item.fingerprint))].map(fingerprintKey);
    for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
      const chunk = keys.slice(start, start + BATCH_GET_LIMIT);
      const { Responses } = await this.call(() =>
        this.db.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: chunk, ConsistentRead: true } },
          }),
        ),
      );
      // Keys DynamoDB leaves unprocessed keep the counters stored on the incident item.
      for (const fp of (Responses?.[this.tableName] ?? []) as FingerprintItem[]) {
        if (fp.openIncidentId) live.set(fp.openIncidentId, fp);
      }
    }
    return items.map((item) => {
      const incident = toIncident(item);
      const counters = live.get(incident.id);
      return counters
        ? {
            ...incident,
            occurrences: counters.occurrences ?? incident.occurrences,
            lastSeenAt: counters.lastSeenAt ?? incident.lastSeenAt,
          }
        : incident;
    });
  }

  /**
   * Faults of the service (5xx, throttling, network) become StoreUnavailableError, which
   * callers may retry; the SDK has already retried them with backoff. Anything else (a
   * condition, a malformed request) passes through unchanged.
   */
  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (isServiceFault(error)) {
        throw new StoreUnavailableError(`DynamoDB request failed: ${(error as Error).name}`, {
          cause: error,
        });
      }
      throw error;
    }
  }
}

const THROTTLING = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "LimitExceededException",
]);

function isServiceFault(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const sdk = error as Error & { $fault?: string; $metadata?: unknown };
  // No $metadata: the request never got an answer (connection refused, reset, timeout).
  return sdk.$metadata === undefined || sdk.$fault === "server" || THROTTLING.has(error.name);
}

function chooseIndex(query: IncidentQuery) {
  const filters: Record<string, string | number> = {};
  if (query.severity) filters.severity = query.severity;
  if (query.level !== undefined) filters.level = query.level;
  if (query.status) {
    if (query.team) filters.team = query.team;
    return { index: INDEXES.byStatus, partition: `STATUS#${query.status}`, filters };
  }
  if (query.team) return { index: INDEXES.byTeam, partition: `TEAM#${query.team}`, filters };
  return { index: INDEXES.byTime, partition: "INCIDENT", filters };
}

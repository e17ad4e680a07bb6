/**
 * The history paths at scale: 10,000 incidents carrying 100,000 timeline events in dynalite,
 * then the first page of the list, one incident with its timeline, and a 30-day report,
 * each through the read function's handler, timed and with the DynamoDB requests it made.
 * Not wired into `npm run bench` here: bench/run.ts calls measureHistory().
 */

import { Logger } from "@aws-lambda-powertools/logger";
import { BatchWriteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Context } from "aws-lambda";
import { toIncidentItem } from "../functions/adapters/dynamodb/incident-item.js";
import { DynamoIncidentStore } from "../functions/adapters/dynamodb/incident-store.js";
import { DEFAULT_RETENTION_SECONDS } from "../functions/adapters/dynamodb/table-schema.js";
import type { HttpEvent } from "../functions/adapters/http/types.js";
import { readApi } from "../functions/api/read-api.js";
import { SEVERITIES } from "../functions/core/alert.js";
import type { IncidentWithTimeline, TimelineEvent } from "../functions/core/incident.js";
import { startEmbeddedDynamo } from "../functions/local/embedded-dynamodb.js";
import { RequestCounter, total } from "./request-counter.js";

const TABLE = "bench-history";
const TOKEN = "bench-history-token";
const TEAMS = ["platform", "ml-training", "ml-inference", "data"];
const PEOPLE = ["Alice Martin", "Bob Chen", "Dmitri Volkov", "Erin Walsh", "Grace Okafor"];
const DAY_MS = 86_400_000;
const BATCH = 25;
const WRITERS = 8;

export interface HistoryOptions {
  incidents?: number;
  eventsPerIncident?: number;
  /** Incidents are spread evenly over this many days before `now`. */
  days?: number;
  /** Timed runs of each read; the first run's requests are reported. */
  repeats?: number;
  now?: Date;
  log?: (line: string) => void;
}

export interface HistoryMeasurement {
  case: string;
  /** What came back: incidents listed, timeline events, incidents in the report. */
  items: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** DynamoDB requests (HTTP attempts) of one run, by operation, and their total. */
  requests: Record<string, number>;
  totalRequests: number;
}

export interface HistoryResult {
  incidents: number;
  timelineEvents: number;
  seedMs: number;
  seedRequests: number;
  measurements: HistoryMeasurement[];
}

/** A deterministic incident: createdAt evenly spaced, levels, acknowledgements and resolutions varied. */
function seedIncident(
  n: number,
  options: Required<Omit<HistoryOptions, "log">>,
): IncidentWithTimeline {
  const span = options.days * DAY_MS;
  const created = options.now.getTime() - span + Math.floor((n * span) / options.incidents);
  const iso = (offsetSeconds: number) => new Date(created + offsetSeconds * 1000).toISOString();
  const level = n % 5;
  const acknowledged = n % 3 !== 0;
  const resolved = n % 4 !== 0;
  const person = PEOPLE[n % PEOPLE.length]!;
  const ackAfter = 60 + (n % 1800);
  const resolveAfter = ackAfter + 300 + (n % 7200);
  const team = TEAMS[n % TEAMS.length]!;
  const timeline: TimelineEvent[] = [{ at: iso(0), type: "triggered", actor: "alertmanager" }];
  for (let i = 1; timeline.length < options.eventsPerIncident - 2; i++) {
    const l = Math.min(level, Math.ceil(i / 2));
    timeline.push(
      i % 2 === 0 && l > 1
        ? { at: iso(i * 60), type: "escalated", level: l, detail: `to level ${l}: ${person}` }
        : {
            at: iso(i * 60),
            type: "notified",
            level: l,
            channel: "pagerduty",
            target: person,
            detail: "escalate: not delivered: no credentials",
          },
    );
  }
  timeline.push(
    acknowledged
      ? { at: iso(ackAfter), type: "acknowledged", actor: person }
      : { at: iso(ackAfter), type: "snoozed", actor: person, detail: "escalation paused" },
  );
  timeline.push(
    resolved
      ? { at: iso(resolveAfter), type: "resolved", actor: person }
      : {
          at: iso(resolveAfter),
          type: "notified",
          level,
          channel: "slack-incidents",
          detail: "escalate: posted",
        },
  );
  return {
    id: `bench-${String(n).padStart(6, "0")}`,
    fingerprint: `fp-bench-${n}`,
    status: resolved ? "resolved" : acknowledged ? "acknowledged" : "triggered",
    severity: SEVERITIES[n % SEVERITIES.length]!,
    team,
    title: `Synthetic incident ${n} for ${team}`,
    labels: { alertname: "BenchAlert", team, instance: `node-${n % 97}` },
    annotations: { summary: `Synthetic incident ${n}` },
    source: "alertmanager",
    runbook: null,
    level,
    occurrences: 1 + (n % 4),
    startedAt: iso(0),
    createdAt: iso(0),
    lastSeenAt: iso(0),
    acknowledgedAt: acknowledged ? iso(ackAfter) : null,
    acknowledgedBy: acknowledged ? person : null,
    resolvedAt: resolved ? iso(resolveAfter) : null,
    resolvedBy: resolved ? person : null,
    channels: ["slack-incidents", "pagerduty"],
    escalationPolicy: "standard",
    delay: 0,
    generatorUrl: null,
    dashboardUrl: null,
    silenceUrl: null,
    slackMessages: {},
    snoozedUntil: null,
    escalationBaseAt: null,
    escalationStep: level,
    timeline,
  };
}

function getEvent(
  routeKey: string,
  path: string,
  query: Record<string, string> = {},
  id?: string,
): HttpEvent {
  return {
    version: "2.0",
    routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { authorization: `Bearer ${TOKEN}`, host: "127.0.0.1" },
    queryStringParameters: query,
    ...(id ? { pathParameters: { id } } : {}),
    isBase64Encoded: false,
    requestContext: {
      accountId: "bench",
      apiId: "bench",
      domainName: "127.0.0.1",
      domainPrefix: "bench",
      http: {
        method: "GET",
        path,
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "bench",
      },
      requestId: "bench",
      routeKey,
      stage: "$default",
      time: "",
      timeEpoch: 0,
    },
  };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Seeds the table with BatchWriteItem (25 items a request, 8 writers), retrying unprocessed items. */
async function seed(db: DynamoDBDocumentClient, incidents: IncidentWithTimeline[]) {
  const batches: IncidentWithTimeline[][] = [];
  for (let i = 0; i < incidents.length; i += BATCH) batches.push(incidents.slice(i, i + BATCH));
  let next = 0;
  const writer = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      let requests: Record<string, unknown>[] = batch.map((incident) => ({
        PutRequest: { Item: toIncidentItem(incident, DEFAULT_RETENTION_SECONDS) },
      }));
      while (requests.length > 0) {
        const { UnprocessedItems } = await db.send(
          new BatchWriteCommand({ RequestItems: { [TABLE]: requests as never } }),
        );
        requests = (UnprocessedItems?.[TABLE] ?? []) as Record<string, unknown>[];
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}

/**
 * Seeds `incidents` × `eventsPerIncident` into a fresh in-memory dynalite and measures the
 * three history reads through the read function's handler (auth and middleware included).
 */
export async function measureHistory(options: HistoryOptions = {}): Promise<HistoryResult> {
  const settings = {
    incidents: options.incidents ?? 10_000,
    eventsPerIncident: options.eventsPerIncident ?? 10,
    days: options.days ?? 90,
    repeats: options.repeats ?? 5,
    now: options.now ?? new Date(),
  };
  const log = options.log ?? (() => undefined);
  const dynamo = await startEmbeddedDynamo(":memory:", TABLE);
  try {
    const counter = new RequestCounter();
    counter.attach(dynamo.client);
    const db = DynamoDBDocumentClient.from(dynamo.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const incidents = Array.from({ length: settings.incidents }, (_, n) =>
      seedIncident(n, settings),
    );
    const timelineEvents = incidents.reduce((sum, i) => sum + i.timeline.length, 0);
    log(`history: seeding ${incidents.length} incidents, ${timelineEvents} timeline events`);
    const seedStart = performance.now();
    const beforeSeed = counter.snapshot();
    await seed(db, incidents);
    const seedMs = performance.now() - seedStart;
    const seedRequests = total(counter.since(beforeSeed).attempts);

    const store = new DynamoIncidentStore(dynamo.client, TABLE);
    const handler = readApi({
      store,
      apiToken: () => TOKEN,
      logger: new Logger({ logLevel: "SILENT" }),
      now: () => settings.now,
    });
    const context = {} as Context;
    const one = incidents[Math.floor(incidents.length / 2)]!;
    interface Body {
      incidents: unknown[];
      timeline: unknown[];
      overall: { incidents: number };
    }
    const cases: Array<{ name: string; event: HttpEvent; count: (body: Body) => number }> = [
      {
        name: "list: first page (50, newest first)",
        event: getEvent("GET /incidents", "/incidents"),
        count: (body) => body.incidents.length,
      },
      {
        name: "incident with its timeline",
        event: getEvent("GET /incidents/{id}", `/incidents/${one.id}`, {}, one.id),
        count: (body) => body.timeline.length,
      },
      {
        name: "report: last 30 days",
        event: getEvent("GET /reports/escalations", "/reports/escalations"),
        count: (body) => body.overall.incidents,
      },
    ];
    const measurements: HistoryMeasurement[] = [];
    for (const c of cases) {
      const times: number[] = [];
      let requests: Record<string, number> = {};
      let items = 0;
      for (let run = 0; run < settings.repeats; run++) {
        const before = counter.snapshot();
        const started = performance.now();
        const result = await handler(c.event, context);
        times.push(performance.now() - started);
        if (result.statusCode !== 200)
          throw new Error(`${c.name}: HTTP ${result.statusCode} ${result.body}`);
        if (run === 0) {
          requests = counter.since(before).attempts;
          items = c.count(JSON.parse(result.body ?? "null"));
        }
      }
      measurements.push({
        case: c.name,
        items,
        medianMs: Math.round(median(times) * 10) / 10,
        minMs: Math.round(Math.min(...times) * 10) / 10,
        maxMs: Math.round(Math.max(...times) * 10) / 10,
        requests,
        totalRequests: total(requests),
      });
      log(`history: ${c.name}: ${Math.round(median(times))} ms, ${total(requests)} requests`);
    }
    return {
      incidents: incidents.length,
      timelineEvents,
      seedMs: Math.round(seedMs),
      seedRequests,
      measurements,
    };
  } finally {
    await dynamo.close();
  }
}

/** The result as a Markdown section for the bench report. */
export function historyMarkdown(result: HistoryResult): string {
  const requests = (r: Record<string, number>) =>
    Object.entries(r)
      .map(([op, n]) => `${n} ${op}`)
      .join(" + ");
  return [
    `### History reads (${result.incidents.toLocaleString("en")} incidents, ${result.timelineEvents.toLocaleString("en")} timeline events in dynalite)`,
    "",
    `Seeded in ${(result.seedMs / 1000).toFixed(1)} s with ${result.seedRequests} BatchWriteItem requests.`,
    "",
    "| read | items | median ms | min–max ms | DynamoDB requests |",
    "|---|---:|---:|---:|---|",
    ...result.measurements.map(
      (m) =>
        `| ${m.case} | ${m.items} | ${m.medianMs} | ${m.minMs}–${m.maxMs} | ${m.totalRequests} (${requests(m.requests)}) |`,
    ),
    "",
  ].join("\n");
}

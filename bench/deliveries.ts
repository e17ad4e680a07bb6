import { loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { type DynamoDBClient, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import pMap from "p-map";
import { INGEST_CONCURRENCY } from "../functions/app/ingest-alerts.js";
import { startEmbeddedDynamo } from "../functions/local/embedded-dynamodb.js";
import { alertmanagerGroup, gpuFleetAlerts } from "../test/support/gpu-fleet.js";
import { startLocalWithFakes } from "../test/support/local-with-fakes.js";
import { median } from "./throughput.js";

const WEBHOOK = "bench-deliveries-webhook";
const BASELINE_TABLE = "bench-deliveries";
/** Delivery sizes measured, and the answer time each should stay under (issue 11). */
const SIZES = [
  { alerts: 1, aimMs: Number.POSITIVE_INFINITY },
  { alerts: 100, aimMs: 1_000 },
  { alerts: 1_000, aimMs: 5_000 },
] as const;
const REPEATS = 3;

export interface DeliveryTiming {
  alerts: number;
  kind: "new" | "duplicate";
  /** Delivery posted → 202 received, ms, each repeat. */
  answeredMs: number[];
  /** The same alerts' writes straight to DynamoDB (3 for a new alert, 1 for a duplicate), ms. */
  baselineMs: number[];
  medianMs: number;
  medianBaselineMs: number;
  /** Answer time over baseline time (1 = no more than its writes). */
  ratio: number;
  aimMs: number;
  verdict: "ok" | "over" | "no aim";
}

export interface DeliveriesResult {
  loadAverage: number;
  concurrency: number;
  timings: DeliveryTiming[];
}

/** One Alertmanager group of `count` critical alerts (ml-training, the standard policy). */
const group = (run: string, count: number) =>
  alertmanagerGroup(gpuFleetAlerts({ count, severity: "critical", run }));

/**
 * The floor for the same delivery: its DynamoDB writes alone, at the delivery's concurrency,
 * on another embedded DynamoDB in this process. A new alert is three conditional writes
 * (claim the fingerprint, write the incident, commit), a duplicate one.
 */
async function baselineWrites(
  dynamo: DynamoDBClient,
  run: string,
  count: number,
  kind: "new" | "duplicate",
): Promise<void> {
  await pMap(
    Array.from({ length: count }, (_, i) => i),
    async (i) => {
      const pk = { S: `FP#${run}-${i}` };
      const claim = new UpdateItemCommand({
        TableName: BASELINE_TABLE,
        Key: { pk, sk: { S: "FP" } },
        UpdateExpression:
          "SET openIncidentId = if_not_exists(openIncidentId, :id), lastSeenAt = :now ADD occurrences :one",
        ExpressionAttributeValues: {
          ":id": { S: `${run}-${i}` },
          ":now": { S: new Date().toISOString() },
          ":one": { N: "1" },
        },
        ReturnValues: "ALL_NEW",
      });
      await dynamo.send(claim);
      if (kind === "duplicate") return;
      await dynamo.send(
        new PutItemCommand({
          TableName: BASELINE_TABLE,
          Item: { pk: { S: `INC#${run}-${i}` }, sk: { S: "INC" }, status: { S: "triggered" } },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      await dynamo.send(
        new UpdateItemCommand({
          TableName: BASELINE_TABLE,
          Key: { pk, sk: { S: "FP" } },
          UpdateExpression: "SET committedIncidentId = :id",
          ConditionExpression: "openIncidentId = :id",
          ExpressionAttributeValues: { ":id": { S: `${run}-${i}` } },
        }),
      );
    },
    { concurrency: INGEST_CONCURRENCY },
  );
}

/**
 * Time to the answer for one Alertmanager delivery of 1, 100 and 1,000 new critical alerts
 * (each opening an incident and starting its escalation), and of the same 1,000 again
 * (duplicates), on the local server with fake Slack and PagerDuty, against the same alerts'
 * DynamoDB writes alone in the same run. Between deliveries it waits until every new
 * incident's first page reached PagerDuty, so no delivery is measured while the pages of the
 * one before are still going out.
 */
export async function measureDeliveries(
  log: (line: string) => void = () => undefined,
): Promise<DeliveriesResult> {
  const fakes = await startLocalWithFakes({ webhookToken: WEBHOOK, apiToken: "bench-api" });
  const baseline = await startEmbeddedDynamo(":memory:", BASELINE_TABLE);
  const { local, pagerDuty } = fakes;
  let opened = 0;
  const paged = () => pagerDuty.events.filter((e) => e.event_action === "trigger").length;
  const deliver = async (body: unknown) => {
    const started = performance.now();
    const response = await fetch(`${local.url}/webhooks/alertmanager`, {
      method: "POST",
      headers: { authorization: `Bearer ${WEBHOOK}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { accepted?: number };
    const ms = performance.now() - started;
    if (response.status !== 202) throw new Error(`delivery: HTTP ${response.status}`);
    return { ms, accepted: answer.accepted ?? 0 };
  };
  const quiet = async () => {
    while (paged() < opened) await sleep(50);
  };
  try {
    // Warm-up: the first delivery pays for JIT, connections and the fakes' TLS.
    await deliver(group("warm-up", 100));
    opened += 100;
    await baselineWrites(baseline.client, "warm-up", 100, "new");
    await quiet();
    const timings: DeliveryTiming[] = [];
    const sizes = [
      ...SIZES.map((size) => ({ ...size, kind: "new" as const })),
      { alerts: 1_000, aimMs: 5_000, kind: "duplicate" as const },
    ];
    for (const { alerts, aimMs, kind } of sizes) {
      const answeredMs: number[] = [];
      const baselineMs: number[] = [];
      for (let repeat = 0; repeat < REPEATS; repeat++) {
        const run = `${alerts}-${kind === "new" ? "new" : "big"}-${repeat}`;
        // A duplicate delivery repeats the group the 1,000 new alerts opened.
        const body = group(kind === "new" ? run : `1000-new-${repeat}`, alerts);
        const timed = await deliver(body);
        answeredMs.push(timed.ms);
        if (kind === "new") opened += alerts;
        const floor = performance.now();
        await baselineWrites(
          baseline.client,
          kind === "new" ? run : `1000-new-${repeat}`,
          alerts,
          kind,
        );
        baselineMs.push(performance.now() - floor);
        await quiet();
        log(
          `deliveries: ${alerts} ${kind}, run ${repeat + 1}: answered in ${timed.ms.toFixed(0)} ms, baseline ${baselineMs.at(-1)!.toFixed(0)} ms`,
        );
      }
      const medianMs = median(answeredMs);
      const medianBaselineMs = median(baselineMs);
      timings.push({
        alerts,
        kind,
        answeredMs,
        baselineMs,
        medianMs,
        medianBaselineMs,
        ratio: medianMs / medianBaselineMs,
        aimMs,
        verdict: Number.isFinite(aimMs) ? (medianMs <= aimMs ? "ok" : "over") : "no aim",
      });
    }
    return { loadAverage: loadavg()[0]!, concurrency: INGEST_CONCURRENCY, timings };
  } finally {
    await fakes.close();
    await baseline.close();
  }
}

export function deliveriesMarkdown(result: DeliveriesResult): string {
  const ms = (value: number) => value.toFixed(0);
  return [
    `### One delivery of many alerts: time to the answer (local server, fake Slack and PagerDuty; ${result.concurrency} alerts written at once; load average ${result.loadAverage.toFixed(1)})`,
    "",
    "| delivery | answered, median ms | its writes alone, ms | ratio | aim |",
    "|---|---|---|---|---|",
    ...result.timings.map(
      (t) =>
        `| ${t.alerts} ${t.kind === "new" ? "new alerts (incidents opened, escalations started)" : "duplicates"} | ${ms(t.medianMs)} (${t.answeredMs.map(ms).join(", ")}) | ${ms(t.medianBaselineMs)} | ${t.ratio.toFixed(2)} | ${Number.isFinite(t.aimMs) ? `≤ ${t.aimMs} ms: ${t.verdict}` : ""} |`,
    ),
  ].join("\n");
}

/** `npx tsx bench/deliveries.ts`: this measurement alone. */
if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const result = await measureDeliveries((line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${deliveriesMarkdown(result)}\n`);
}

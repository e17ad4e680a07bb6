import { type DynamoDBClient, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { alertmanagerDelivery } from "./alerts.js";
import { type JsonHttp, runConcurrently } from "./http-client.js";

/**
 * The alerts of one measured run. A new alert has a fingerprint unique to the run; a
 * duplicate repeats one opened during the warm-up, so it never races the creation of its
 * own incident.
 */
export interface AlertMix {
  name: string;
  count: number;
  concurrency: number;
  isNew: (index: number) => boolean;
  /** Fingerprint keys that already have an open incident. */
  openKeys: readonly string[];
}

function keyAt(mix: AlertMix, run: string, index: number): string {
  return mix.isNew(index) ? `${run}-${index}` : mix.openKeys[index % mix.openKeys.length]!;
}

/** Takes alert number `index` of a run. */
export type AlertOperation = (index: number) => Promise<void>;

/** One single-alert webhook delivery to the local server, checked against the contract. */
export function serverOperation(
  http: JsonHttp,
  webhookToken: string,
  mix: AlertMix,
  run: string,
): AlertOperation {
  return async (index) => {
    const key = keyAt(mix, run, index);
    const answer = await http.post(
      "/webhooks/alertmanager",
      webhookToken,
      alertmanagerDelivery(key, "firing"),
    );
    const body = answer.body as { incidents?: Array<{ deduplicated: boolean }> };
    if (answer.status !== 202 || body.incidents?.[0]?.deduplicated !== !mix.isNew(index)) {
      throw new Error(`alert ${key}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
    }
  };
}

/**
 * One conditional write straight to DynamoDB: the floor of what deduplication can cost,
 * one request per alert.
 */
export function baselineOperation(
  dynamo: DynamoDBClient,
  tableName: string,
  mix: AlertMix,
  run: string,
): AlertOperation {
  return (index) => writeFingerprint(dynamo, tableName, keyAt(mix, run, index), mix.isNew(index));
}

/** A new fingerprint is a PutItem that must not overwrite; a duplicate updates an open one. */
export async function writeFingerprint(
  dynamo: DynamoDBClient,
  tableName: string,
  key: string,
  isNew: boolean,
): Promise<void> {
  const now = new Date().toISOString();
  const pk = { S: `FP#${key}` };
  if (isNew) {
    await dynamo.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk,
          sk: { S: "FP" },
          openIncidentId: { S: crypto.randomUUID() },
          incidentStatus: { S: "triggered" },
          openedAt: { S: now },
          lastSeenAt: { S: now },
          occurrences: { N: "1" },
        },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    return;
  }
  await dynamo.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { pk, sk: { S: "FP" } },
      UpdateExpression: "SET lastSeenAt = :now ADD occurrences :one",
      ConditionExpression: "attribute_exists(openIncidentId)",
      ExpressionAttributeValues: { ":now": { S: now }, ":one": { N: "1" } },
      ReturnValues: "ALL_NEW",
    }),
  );
}

export interface SideTotals {
  /** Wall-clock seconds. */
  seconds: number;
  /** CPU seconds of this whole process (load generator, server and dynalite alike). */
  cpuSeconds: number;
}

/**
 * Runs the same alert indexes through every side, alternating in blocks, so that both
 * sides see the same background load on a shared machine; returns each side's totals.
 */
export async function interleaved(
  sides: readonly AlertOperation[],
  mix: AlertMix,
  block: number,
): Promise<SideTotals[]> {
  const totals = sides.map(() => ({ seconds: 0, cpuSeconds: 0 }));
  for (let start = 0; start < mix.count; start += block) {
    const size = Math.min(block, mix.count - start);
    for (const [side, operation] of sides.entries()) {
      const cpu = process.cpuUsage();
      const started = performance.now();
      await runConcurrently(size, mix.concurrency, (i) => operation(start + i));
      const used = process.cpuUsage(cpu);
      totals[side]!.seconds += (performance.now() - started) / 1000;
      totals[side]!.cpuSeconds += (used.user + used.system) / 1e6;
    }
  }
  return totals;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

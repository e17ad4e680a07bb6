import type { EscalationResult } from "./escalation-report.js";
import type { RequestCost } from "./request-costs.js";

export interface ThroughputSide {
  /** Alerts per second, one per run. */
  runs: number[];
  median: number;
  /** CPU time of the whole process per alert (median over runs). */
  cpuMicrosPerAlert: number;
  dynamoRequestsPerAlert: number;
}

export interface ThroughputResult {
  alerts: number;
  concurrency: number;
  client: string;
  mix: string;
  block: number;
  server: ThroughputSide;
  baseline: ThroughputSide;
  /** Median server rate over median baseline rate. */
  ratio: number;
  ratioRuns: number[];
  /** Baseline CPU per alert over server CPU per alert: the ratio a quiet machine would give. */
  cpuRatio: number;
  aim: number;
  verdict: "ok" | "below";
}

export interface CounterCheck {
  /** HTTP requests counted by the SDK middleware (deserialize step, once per attempt). */
  attempts: number;
  /** Commands counted in the initialize step. */
  calls: number;
  /** Sum of $metadata.attempts reported by the SDK. */
  reportedAttempts: number;
  /** Requests the dynalite HTTP server received (counted on its thread: EmbeddedDynamo.requestsReceived). */
  wireRequests: number;
  ok: boolean;
}

export interface BenchResult {
  environment: Record<string, string | number>;
  requestCosts: RequestCost[];
  counterCheck: { server: CounterCheck; baseline: CounterCheck };
  throughput: ThroughputResult;
  /** The same comparison when every alert is a duplicate (one request each on both sides). */
  duplicatesOnly: ThroughputResult;
  /** Step Functions transitions per escalation and how late each level fired (local engine). */
  escalation: EscalationResult;
  anomalies: string[];
  seconds: number;
}

export const fmt = (n: number, digits = 2) =>
  Number.isInteger(n) || digits === 0 ? n.toFixed(0) : n.toFixed(digits).replace(/\.?0+$/, "");

function operations(record: Record<string, number>): string {
  return Object.entries(record)
    .sort(([, a], [, b]) => b - a)
    .map(([operation, n]) => `${fmt(n)} ${operation}`)
    .join(" + ");
}

function costCell(cost: RequestCost): string {
  const failed = Object.entries(cost.failures)
    .map(([what, n]) => `${fmt(n)} × ${what}`)
    .join(", ");
  return [
    `**${fmt(cost.requests)}** (${fmt(cost.reads)} R / ${fmt(cost.writes)} W: ${operations(cost.byOperation)})`,
    failed ? `; failed: ${failed}` : "",
    cost.retries > 0 ? `; ${fmt(cost.retries)} retries` : "",
  ].join("");
}

function sideRow(name: string, side: ThroughputSide): string {
  const runs = side.runs.map((r) => fmt(r, 0)).join(", ");
  return `| ${name} | **${fmt(side.median, 0)}** | ${runs} | ${fmt(side.cpuMicrosPerAlert, 0)} | ${fmt(side.dynamoRequestsPerAlert)} |`;
}

function throughputRows(t: ThroughputResult, judged: boolean): string[] {
  const mix = `${t.alerts} alerts, ${t.mix}`;
  const ratio = judged ? `**ratio server / baseline** (aim ≥ ${t.aim})` : "ratio server / baseline";
  const verdict = judged ? ` ${t.verdict}` : "";
  return [
    sideRow(`${mix}: local server (HTTP → middy → store → dynalite)`, t.server),
    sideRow(`${mix}: baseline (one conditional write → dynalite)`, t.baseline),
    `| ${mix}: ${ratio} | **${t.ratio.toFixed(2)}**${verdict} | ${t.ratioRuns.map((r) => r.toFixed(2)).join(", ")} | ${t.cpuRatio.toFixed(2)} by CPU | |`,
  ];
}

/** Markdown tables for the README. */
export function markdown(result: BenchResult): string {
  const t = result.throughput;
  const rows = [
    "| measurement | DynamoDB requests per call | target | |",
    "|---|---|---|---|",
    ...result.requestCosts.map(
      (cost) =>
        `| ${cost.case} | ${costCell(cost)} | ${cost.target?.note ?? ""} | ${cost.verdict ?? ""} |`,
    ),
    "",
    `| throughput: single-alert deliveries, concurrency ${t.concurrency} | alerts/s (median of ${t.server.runs.length}) | runs | CPU µs per alert | DynamoDB requests per alert |`,
    "|---|---|---|---|---|",
    ...throughputRows(t, true),
    ...throughputRows(result.duplicatesOnly, false),
  ];
  return rows.join("\n");
}

/**
 * `npm run bench`: what one alert costs in DynamoDB requests, how many alerts per second
 * the local server takes compared with raw conditional writes to the same embedded DynamoDB,
 * and what a timed escalation costs in Step Functions transitions and how punctually its
 * levels fire on the local engine (fake Slack and PagerDuty), and how long one delivery of
 * 1, 100 and 1,000 alerts takes to be answered.
 * A benchmark, not a test: it prints a Markdown table and the same figures as JSON, and
 * exits 0 unless something could not run. BENCH_HTTP_CLIENT=fetch loads the server through
 * fetch instead of node:http.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

import { cpus } from "node:os";
import { Logger } from "@aws-lambda-powertools/logger";
import { loadConfigFile } from "../functions/adapters/config-file.js";
import { startEmbeddedDynamo } from "../functions/local/embedded-dynamodb.js";
import { startLocalServer } from "../functions/local/server.js";
import { alertmanagerDelivery } from "./alerts.js";
import { bundlesMarkdown, measureBundles } from "./bundles.js";
import { clicksMarkdown, measureClicks } from "./clicks.js";
import { compareRates } from "./compare-rates.js";
import { contactLatencyMarkdown, measureContactLatency } from "./contact-latency.js";
import { deliveriesMarkdown, measureDeliveries } from "./deliveries.js";
import { measureEscalation, PRICE_PER_1000_TRANSITIONS, PRICE_REGION } from "./escalation.js";
import { type EscalationResult, escalationMarkdown } from "./escalation-report.js";
import { historyMarkdown, measureHistory } from "./history.js";
import { FetchClient, JsonClient, type JsonHttp, runConcurrently } from "./http-client.js";
import { type BenchResult, type CounterCheck, fmt, markdown } from "./report.js";
import { measureRequestCosts } from "./request-costs.js";
import { RequestCounter, total, WireCounter } from "./request-counter.js";
import {
  type AlertMix,
  baselineOperation,
  serverOperation,
  writeFingerprint,
} from "./throughput.js";

const FINGERPRINTS = 20;
const ALERTS = 2_000;
/** The duplicates-only breakdown is smaller: it explains the ratio, it is not the figure. */
const DUPLICATE_ALERTS = 1_000;
const CONCURRENCY = 8;
const REPEATS = 3;
/** Alerts per turn when the two sides alternate within a run. */
const BLOCK = 250;
const WARM_UP_KEYS = 200;
const RATIO_AIM = 0.5;
const BASELINE_TABLE = "bench-baseline";
const WEBHOOK_TOKEN = "bench-webhook-token";
const API_TOKEN = "bench-api-token";
/** Time scales of the escalation runs: the e2e test's (15 min → 1.5 s), and whole seconds. */
const ESCALATION_SCALES = [600, 900];
const ESCALATING_INCIDENTS = 5;

const log = (line: string) => process.stderr.write(`${line}\n`);

function counterCheck(counter: RequestCounter, wire: WireCounter): CounterCheck {
  const counts = counter.snapshot();
  const attempts = total(counts.attempts);
  return {
    attempts,
    calls: total(counts.calls),
    reportedAttempts: counts.reportedAttempts,
    wireRequests: wire.requests,
    ok: attempts === wire.requests && attempts === counts.reportedAttempts,
  };
}

async function main() {
  const started = performance.now();
  // Ingest alone: with no channel and no policy, no escalation starts. On AWS the escalation
  // runs apart (Step Functions and its own function); locally it would share this process
  // and these counters. The escalation section below measures it.
  const shipped = loadConfigFile("tocsin.yaml");
  const recordOnly = Object.fromEntries(
    Object.entries(shipped.severities).map(([severity, policy]) => [
      severity,
      { ...policy, channels: [], escalation: null },
    ]),
  ) as unknown as typeof shipped.severities;
  const local = await startLocalServer({
    config: { ...shipped, severities: recordOnly },
    host: "127.0.0.1",
    port: 0,
    dataDir: ":memory:",
    webhookToken: WEBHOOK_TOKEN,
    apiToken: API_TOKEN,
    logger: new Logger({ serviceName: "tocsin", logLevel: "ERROR" }),
  });
  const baseline = await startEmbeddedDynamo(":memory:", BASELINE_TABLE);
  const serverCounter = new RequestCounter();
  serverCounter.attach(local.dynamoClient);
  const serverWire = new WireCounter(local.dynamoRequests);
  const baselineCounter = new RequestCounter();
  baselineCounter.attach(baseline.client);
  const baselineWire = new WireCounter(baseline.requestsReceived);
  const clientName = process.env.BENCH_HTTP_CLIENT === "fetch" ? "fetch" : "node:http";
  const load: JsonHttp =
    clientName === "fetch" ? new FetchClient(local.url) : new JsonClient(local.url, CONCURRENCY);
  const probe = new FetchClient(local.url);
  let measured: Omit<BenchResult, "escalation" | "seconds">;

  try {
    log(`requests per alert: ${FINGERPRINTS} fingerprints through ${local.url} ...`);
    const costs = await measureRequestCosts({
      http: probe,
      counter: serverCounter,
      webhookToken: WEBHOOK_TOKEN,
      apiToken: API_TOKEN,
      fingerprints: FINGERPRINTS,
    });

    log("throughput: warm-up ...");
    const openKeys = Array.from({ length: WARM_UP_KEYS }, (_, i) => `warm-${i}`);
    for (const isNew of [true, false]) {
      await runConcurrently(openKeys.length, CONCURRENCY, async (i) => {
        const answer = await load.post(
          "/webhooks/alertmanager",
          WEBHOOK_TOKEN,
          alertmanagerDelivery(openKeys[i]!, "firing"),
        );
        if (answer.status !== 202) throw new Error(`warm-up: HTTP ${answer.status}`);
        await writeFingerprint(baseline.client, BASELINE_TABLE, openKeys[i]!, isNew);
      });
    }
    const compare = (mix: AlertMix) =>
      compareRates({
        mix,
        repeats: REPEATS,
        block: BLOCK,
        aim: RATIO_AIM,
        client: clientName,
        log,
        server: {
          operation: (run) => serverOperation(load, WEBHOOK_TOKEN, mix, run),
          counter: serverCounter,
        },
        baseline: {
          operation: (run) => baselineOperation(baseline.client, BASELINE_TABLE, mix, run),
          counter: baselineCounter,
        },
      });
    const common = { concurrency: CONCURRENCY, openKeys };
    const throughput = await compare({
      ...common,
      name: "half new, half duplicate",
      count: ALERTS,
      isNew: (index) => index % 2 === 0,
    });
    const duplicatesOnly = await compare({
      ...common,
      name: "duplicates only",
      count: DUPLICATE_ALERTS,
      isNew: () => false,
    });

    measured = {
      environment: {
        node: process.version,
        cpus: cpus().length,
        cpu: cpus()[0]?.model ?? "unknown",
        date: new Date().toISOString(),
      },
      requestCosts: costs.costs,
      counterCheck: {
        server: counterCheck(serverCounter, serverWire),
        baseline: counterCheck(baselineCounter, baselineWire),
      },
      throughput,
      duplicatesOnly,
      anomalies: costs.anomalies,
    };
  } finally {
    load.close();
    probe.close();
    await local.close();
    await baseline.close();
  }

  // Its own servers and fakes, once the DynamoDB measurements have let go of theirs.
  const escalation: EscalationResult = {
    pricePer1000Transitions: PRICE_PER_1000_TRANSITIONS,
    region: PRICE_REGION,
    cpus: cpus().length,
    runs: [],
  };
  for (const timeScale of ESCALATION_SCALES)
    escalation.runs.push(
      await measureEscalation({ timeScale, incidents: ESCALATING_INCIDENTS, log }),
    );

  const result: BenchResult = {
    ...measured,
    escalation,
    seconds: (performance.now() - started) / 1000,
  };
  const clicks = await measureClicks(200, log);
  // A slow Slack (1.5 s a call) must not slow the click's answer down.
  const slowSlackClicks = await measureClicks(30, log, 1_500);
  const contacts = await measureContactLatency(40, log);
  log("deliveries: 1, 100 and 1,000 alerts in one delivery ...");
  const deliveries = await measureDeliveries(log);
  log("history: seeding 10,000 incidents and 100,000 timeline events ...");
  const history = await measureHistory({ log });
  const bundles = await measureBundles({ log });
  const { server: s, baseline: b } = result.counterCheck;
  const { environment: env } = result;
  process.stdout.write(
    [
      "",
      `## tocsin bench (${env.node}, ${env.cpus} × ${env.cpu}, load client ${clientName})`,
      "",
      markdown(result),
      "",
      `Counter check, SDK middleware against what dynalite received: server ${s.attempts} requests counted, ${s.wireRequests} received, ${s.reportedAttempts} by $metadata.attempts, ${s.calls} commands (${s.ok ? "ok" : "MISMATCH"}); baseline ${b.attempts} / ${b.wireRequests} / ${b.reportedAttempts} / ${b.calls} (${b.ok ? "ok" : "MISMATCH"}).`,
      result.anomalies.length
        ? `Anomalies (${result.anomalies.length}):\n${result.anomalies.map((a) => `- ${a}`).join("\n")}`
        : "Anomalies: none (every answer had the expected status, dedup flag and incident id).",
      "",
      escalationMarkdown(result.escalation),
      "",
      clicksMarkdown(clicks),
      "",
      clicksMarkdown(slowSlackClicks),
      "",
      contactLatencyMarkdown(contacts),
      "",
      deliveriesMarkdown(deliveries),
      "",
      historyMarkdown(history),
      "",
      bundlesMarkdown(bundles),
      "",
      `Took ${fmt(result.seconds, 1)} s.`,
      "",
      "```json",
      JSON.stringify({ ...result, contacts }, null, 2),
      "```",
      "",
    ].join("\n"),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});

/**
 * The ML pack end to end on real parts: a synthetic exporter on 127.0.0.1 serves series named
 * as NVIDIA's DCGM exporter and vLLM name them; Debian's Prometheus 2.42 scrapes it and
 * evaluates the pack's rule files; Debian's Alertmanager 0.25 routes with
 * examples/alertmanager/alertmanager.yml; tocsin (the local server, Slack and PagerDuty on
 * fakes) opens the incidents. A GPU's temperature and a model's TTFT are flipped: the right
 * incidents open with severity, team and a runbook filled in with their labels; flipped back,
 * they resolve.
 *
 * Only the waiting is shortened, so the run takes tens of seconds: every rule's `for` becomes
 * 2 s, Prometheus scrapes and evaluates every second, and Alertmanager's group timings become
 * 1 s. Expressions, labels, annotations and routes are the shipped ones.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import { ALERTMANAGER_BINARY, requireAlertmanager } from "../support/alertmanager-process.js";
import { freePort } from "../support/free-port.js";
import { type LocalWithFakes, startLocalWithFakes } from "../support/local-with-fakes.js";
import { pollUntil } from "../support/poll-until.js";
import { type ProcessGroup, spawnProcessGroup } from "../support/process-group.js";
import {
  PROMETHEUS_BINARY,
  prometheusInstalled,
  type RunningPrometheus,
  startPrometheus,
} from "../support/prometheus-process.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const WEBHOOK_TOKEN = "pack-e2e-webhook-token";
const API_TOKEN = "pack-e2e-api-token";
const MODEL = "llama-3-70b-instruct";
const RULE_FILES = ["dcgm", "vllm", "capacity", "baselines", "ml-alerts"];

const hasAlertmanager = requireAlertmanager("the ML pack end to end");
const hasPrometheus = prometheusInstalled() || Boolean(process.env.CI);
if (!prometheusInstalled() && !process.env.CI) {
  console.warn(
    `skipping the ML pack end to end: ${PROMETHEUS_BINARY} is missing (apt-get install prometheus)`,
  );
}

/** What the synthetic exporter serves: two GPUs of a DCGM exporter, one vLLM engine. */
const state = {
  temperature: { "0": 64, "3": 64 } as Record<string, number>,
  ttftSlow: false,
  dilute: false,
};
const TTFT_BUCKETS = ["0.1", "0.25", "0.5", "0.75", "1.0", "2.5", "+Inf"];
const ttftCounts = TTFT_BUCKETS.map(() => 0);

function dcgmMetrics(): string {
  const gpu = (id: string) =>
    `gpu="${id}",UUID="GPU-${id}0000000-0000-4000-8000-000000000000",pci_bus_id="00000000:${id}A:00.0",device="nvidia${id}",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-07",DCGM_FI_DRIVER_VERSION="570.124.06"`;
  const ids = Object.keys(state.temperature);
  return [
    "# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).",
    "# TYPE DCGM_FI_DEV_GPU_TEMP gauge",
    ...ids.map((id) => `DCGM_FI_DEV_GPU_TEMP{${gpu(id)}} ${state.temperature[id]}`),
    "# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).",
    "# TYPE DCGM_FI_DEV_FB_USED gauge",
    ...ids.map((id) => `DCGM_FI_DEV_FB_USED{${gpu(id)}} 40000`),
    "# HELP DCGM_FI_DEV_FB_FREE Framebuffer memory free (in MiB).",
    "# TYPE DCGM_FI_DEV_FB_FREE gauge",
    ...ids.map((id) => `DCGM_FI_DEV_FB_FREE{${gpu(id)}} 41559`),
    "# HELP DCGM_FI_DEV_XID_ERRORS Value of the last XID error encountered.",
    "# TYPE DCGM_FI_DEV_XID_ERRORS gauge",
    ...ids.map((id) => `DCGM_FI_DEV_XID_ERRORS{${gpu(id)}} 0`),
    "",
  ].join("\n");
}

function vllmMetrics(): string {
  // Each scrape observes a batch of first tokens: fast ones (under 100 ms), or, while slow,
  // 20 of 1-2.5 s; once cleared, many fast ones, so the slow share of the 5-minute window
  // falls under 1% at once and p99 comes back down.
  const observe = (bucket: number, n: number) => {
    for (let i = bucket; i < ttftCounts.length; i++) ttftCounts[i]! += n;
  };
  if (state.ttftSlow) observe(TTFT_BUCKETS.indexOf("2.5"), 20);
  else observe(0, state.dilute ? 50_000 : 200);
  const labels = `model_name="${MODEL}",engine="0"`;
  return [
    "# HELP vllm:num_requests_running Number of requests in model execution batches.",
    "# TYPE vllm:num_requests_running gauge",
    `vllm:num_requests_running{${labels}} 12.0`,
    "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
    "# TYPE vllm:num_requests_waiting gauge",
    `vllm:num_requests_waiting{${labels}} 0.0`,
    "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.",
    "# TYPE vllm:kv_cache_usage_perc gauge",
    `vllm:kv_cache_usage_perc{${labels}} 0.42`,
    "# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.",
    "# TYPE vllm:time_to_first_token_seconds histogram",
    ...TTFT_BUCKETS.map(
      (le, i) => `vllm:time_to_first_token_seconds_bucket{${labels},le="${le}"} ${ttftCounts[i]}.0`,
    ),
    `vllm:time_to_first_token_seconds_count{${labels}} ${ttftCounts.at(-1)}.0`,
    `vllm:time_to_first_token_seconds_sum{${labels}} ${ttftCounts.at(-1)! * 0.05}`,
    "",
  ].join("\n");
}

/** The shipped rule files with every `for` shortened to 2 s; nothing else changes. */
function packRules() {
  return RULE_FILES.map((name) => {
    const text = readFileSync(join(REPO, `examples/prometheus/${name}.rules.yml`), "utf8");
    return { name: `${name}.rules.yml`, text: text.replace(/^(\s+for:) \S+$/gm, "$1 2s") };
  });
}

/** examples/alertmanager/alertmanager.yml aimed at tocsin, its group timings at 1 s. */
function packAlertmanagerConfig(webhookUrl: string, tokenFile: string): string {
  type Route = {
    group_wait?: string;
    group_interval?: string;
    repeat_interval?: string;
    routes?: Route[];
  };
  const config = parse(
    readFileSync(join(REPO, "examples/alertmanager/alertmanager.yml"), "utf8"),
  ) as {
    route: Route;
    receivers: Array<{
      webhook_configs: Array<{
        url: string;
        http_config: { authorization: { credentials_file: string } };
      }>;
    }>;
  };
  const quicken = (route: Route) => {
    for (const key of ["group_wait", "group_interval"] as const) if (route[key]) route[key] = "1s";
    if (route.repeat_interval) route.repeat_interval = "1m";
    route.routes?.forEach(quicken);
  };
  quicken(config.route);
  for (const receiver of config.receivers) {
    for (const webhook of receiver.webhook_configs) {
      webhook.url = webhookUrl;
      webhook.http_config.authorization.credentials_file = tokenFile;
    }
  }
  return stringify(config);
}

describe.skipIf(!hasAlertmanager || !hasPrometheus)(
  "the ML pack on real Prometheus and Alertmanager",
  () => {
    let tocsin: LocalWithFakes;
    let exporter: Server;
    let alertmanager: ProcessGroup;
    let prometheus: RunningPrometheus;
    let dir: string;

    const api = async <T>(path: string): Promise<T> => {
      const response = await fetch(`${tocsin.local.url}${path}`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
      return (await response.json()) as T;
    };
    const incidentOf = async (alertname: string, status?: string) => {
      const { incidents } = await api<{ incidents: IncidentWithTimeline[] }>(
        "/incidents?limit=100",
      );
      return incidents.find(
        (i) => i.labels.alertname === alertname && (!status || i.status === status),
      );
    };
    const diagnostics = () =>
      `Prometheus:\n${prometheus?.logs().slice(-3000)}\nAlertmanager:\n${alertmanager?.output().slice(-3000)}`;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "tocsin-pack-e2e-"));
      tocsin = await startLocalWithFakes({
        webhookToken: WEBHOOK_TOKEN,
        apiToken: API_TOKEN,
        timeScale: 600,
      });
      exporter = createServer((request, response) => {
        const body =
          request.url === "/metrics/dcgm"
            ? dcgmMetrics()
            : request.url === "/metrics/vllm"
              ? vllmMetrics()
              : null;
        response.writeHead(body === null ? 404 : 200, {
          "content-type": "text/plain; version=0.0.4",
        });
        response.end(body ?? "not found");
      });
      await new Promise<void>((resolve) => exporter.listen(0, "127.0.0.1", resolve));
      const target = `127.0.0.1:${(exporter.address() as AddressInfo).port}`;

      const tokenFile = join(dir, "tocsin-token");
      await writeFile(tokenFile, WEBHOOK_TOKEN, { mode: 0o600 });
      const configFile = join(dir, "alertmanager.yml");
      await writeFile(
        configFile,
        packAlertmanagerConfig(`${tocsin.local.url}/webhooks/alertmanager`, tokenFile),
      );
      const amPort = await freePort();
      alertmanager = spawnProcessGroup(ALERTMANAGER_BINARY, [
        `--config.file=${configFile}`,
        `--storage.path=${join(dir, "alertmanager")}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        "--cluster.listen-address=",
      ]);
      await pollUntil(
        async () => ((await fetch(`http://127.0.0.1:${amPort}/-/ready`)).ok ? true : undefined),
        {
          what: "Alertmanager to be ready",
          timeoutMs: 15_000,
          diagnostics: () => alertmanager.output(),
        },
      );
      prometheus = await startPrometheus({
        scrapes: [
          { job: "dcgm", target, path: "/metrics/dcgm" },
          { job: "vllm", target, path: "/metrics/vllm" },
        ],
        ruleFiles: packRules(),
        alertmanager: `127.0.0.1:${amPort}`,
      });
      // The recording rules have turned the exporter's series into the brief's names.
      await pollUntil(
        async () => {
          const [temperatures, kvCache] = await Promise.all([
            prometheus.query("gpu_temperature_celsius"),
            prometheus.query("inference_kv_cache_usage_percent"),
          ]);
          return temperatures.length === 2 && kvCache.length === 1 ? true : undefined;
        },
        { what: "the recorded series in Prometheus", timeoutMs: 20_000, diagnostics },
      );
    }, 60_000);

    afterAll(async () => {
      await prometheus?.stop();
      await alertmanager?.stop();
      await new Promise((resolve) => exporter?.close(resolve));
      await tocsin?.local.escalation.close();
      await tocsin?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("a hot GPU and a slow model open incidents with their runbooks filled in, and resolve when they recover", async () => {
      expect(await incidentOf("GPUTemperatureHigh")).toBeUndefined();
      state.temperature["3"] = 92;
      state.ttftSlow = true;

      const [gpu, latency] = await pollUntil<[IncidentWithTimeline, IncidentWithTimeline]>(
        async () => {
          const found = await Promise.all([
            incidentOf("GPUTemperatureHigh"),
            incidentOf("InferenceHighLatency"),
          ]);
          return found.every(Boolean)
            ? (found as [IncidentWithTimeline, IncidentWithTimeline])
            : undefined;
        },
        {
          what: "incidents for GPUTemperatureHigh and InferenceHighLatency",
          timeoutMs: 60_000,
          diagnostics,
        },
      );
      expect(gpu).toMatchObject({
        status: "triggered",
        severity: "warning",
        team: "ml-training",
        title: "GPU 3 on gpu-node-07 is at 92 °C",
        labels: expect.objectContaining({
          gpu: "3",
          node: "gpu-node-07",
          Hostname: "gpu-node-07",
          job: "dcgm",
        }),
        runbook: {
          name: "GPU Temperature High",
          url: expect.stringMatching(/runbooks\/gpu-temperature-high\.md$/),
        },
      });
      expect(latency).toMatchObject({
        status: "triggered",
        severity: "warning",
        team: "ml-inference",
        labels: expect.objectContaining({ model: MODEL }),
        runbook: {
          name: "High Latency",
          url: expect.stringMatching(/runbooks\/inference-high-latency\.md$/),
        },
      });
      // The other GPU, at 64 °C, has no incident.
      const { incidents } = await api<{ incidents: IncidentWithTimeline[] }>(
        "/incidents?limit=100",
      );
      expect(incidents.filter((i) => i.labels.alertname === "GPUTemperatureHigh")).toHaveLength(1);

      // Slack #alerts (warnings) carries the runbook's first step with the model filled in.
      const post = await pollUntil(
        () =>
          tocsin.slack
            .callsTo("chat.postMessage")
            .find((call) => JSON.stringify(call.args.blocks ?? []).includes(latency.id)),
        { what: "the Slack post of InferenceHighLatency", timeoutMs: 15_000 },
      );
      expect(post.args.channel).toBe("#alerts");
      const posted = JSON.stringify(post.args.blocks);
      expect(posted).toContain(`inference_ttft_seconds_bucket{model=\\"${MODEL}\\"}`);
      expect(posted).not.toMatch(/\$model\b/);

      // The incident page shows the filled runbook too.
      const page = await fetch(`${tocsin.local.url}/?incident=${encodeURIComponent(latency.id)}`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      const html = await page.text();
      expect(html).toContain(`inference_ttft_seconds_bucket{model=&quot;${MODEL}&quot;}`);
      expect(html).not.toMatch(/\$model\b/);

      state.temperature["3"] = 70;
      state.ttftSlow = false;
      state.dilute = true;
      await pollUntil(
        async () => {
          const resolved = await Promise.all([
            incidentOf("GPUTemperatureHigh", "resolved"),
            incidentOf("InferenceHighLatency", "resolved"),
          ]);
          return resolved.every((i) => i?.id === gpu.id || i?.id === latency.id) ? true : undefined;
        },
        { what: "both incidents resolved", timeoutMs: 60_000, diagnostics },
      );
    }, 150_000);
  },
);

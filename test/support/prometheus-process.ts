import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { stringify } from "yaml";
import { freePort } from "./free-port.js";
import { pollUntil } from "./poll-until.js";
import { spawnProcessGroup } from "./process-group.js";

/** Debian's package (bookworm: 2.42); override with PROMETHEUS_BINARY. */
export const PROMETHEUS_BINARY = process.env.PROMETHEUS_BINARY ?? "/usr/bin/prometheus";

export const prometheusInstalled = () => existsSync(PROMETHEUS_BINARY);

export interface PrometheusOptions {
  /** Scrape jobs: name, `host:port` target and metrics path. */
  scrapes: Array<{ job: string; target: string; path: string }>;
  /** Rule files to load, by their text (named as given). */
  ruleFiles: Array<{ name: string; text: string }>;
  /** `host:port` of the Alertmanager to send alerts to. */
  alertmanager: string;
  /** Scrape and evaluation interval. */
  interval?: string;
}

export interface RunningPrometheus {
  url: string;
  /** An instant query's result vector (`/api/v1/query`). */
  query: (
    expr: string,
  ) => Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  logs: () => string;
  stop: () => Promise<void>;
}

/** Runs a real Prometheus on 127.0.0.1 with its own TSDB in a temporary directory. */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), "tocsin-prometheus-"));
  const interval = options.interval ?? "1s";
  const ruleFiles = [];
  for (const file of options.ruleFiles) {
    const path = join(dir, basename(file.name));
    await writeFile(path, file.text);
    ruleFiles.push(path);
  }
  const configFile = join(dir, "prometheus.yml");
  await writeFile(
    configFile,
    stringify({
      global: { scrape_interval: interval, evaluation_interval: interval },
      rule_files: ruleFiles,
      alerting: { alertmanagers: [{ static_configs: [{ targets: [options.alertmanager] }] }] },
      scrape_configs: options.scrapes.map((s) => ({
        job_name: s.job,
        metrics_path: s.path,
        static_configs: [{ targets: [s.target] }],
      })),
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawnProcessGroup(PROMETHEUS_BINARY, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // Re-send firing alerts every second instead of every minute.
    "--rules.alert.resend-delay=1s",
  ]);
  const stop = async () => {
    await child.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      pollUntil(async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), {
        what: `Prometheus (${PROMETHEUS_BINARY}) to answer ${url}/-/ready`,
        timeoutMs: 20_000,
      }),
      child.exited.then((exit) => {
        throw new Error(`Prometheus exited before it was ready (${JSON.stringify(exit)})`);
      }),
    ]);
  } catch (error) {
    const logs = child.output();
    await stop();
    throw new Error(`${(error as Error).message}\nPrometheus's log:\n${logs}`, { cause: error });
  }
  return {
    url,
    logs: child.output,
    stop,
    query: async (expr) => {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      if (body.status !== "success") throw new Error(`query ${expr}: ${body.error}`);
      return body.data!.result;
    },
  };
}

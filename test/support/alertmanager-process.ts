import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { freePort } from "./free-port.js";
import { pollUntil } from "./poll-until.js";
import { spawnProcessGroup } from "./process-group.js";

/** Debian's package (bookworm: 0.25); override with ALERTMANAGER_BINARY. */
export const ALERTMANAGER_BINARY =
  process.env.ALERTMANAGER_BINARY ?? "/usr/bin/prometheus-alertmanager";

export const alertmanagerInstalled = () => existsSync(ALERTMANAGER_BINARY);

/** An alert as Prometheus posts it: https://github.com/prometheus/alertmanager/blob/v0.25.0/api/v2/openapi.yaml (postableAlert). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

/** What GET /api/v2/alerts answers for one alert (the fields the tests read). */
export interface GettableAlert {
  fingerprint: string;
  labels: Record<string, string>;
  status: { state: string };
}

export interface AlertmanagerOptions {
  /** Where the webhook receiver posts. */
  webhookUrl: string;
  /** Sent as `Authorization: Bearer`, read by Alertmanager from a credentials file. */
  bearerToken: string;
  /** Labels to group by; default `['...']`, every alert a group of its own. */
  groupBy?: string[];
  /** The webhook's `max_alerts`; default 0, no limit. */
  maxAlerts?: number;
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  readyTimeoutMs?: number;
}

export interface RunningAlertmanager {
  url: string;
  postAlerts: (alerts: readonly PostableAlert[]) => Promise<void>;
  listAlerts: () => Promise<GettableAlert[]>;
  /** Alertmanager's own log so far, for failure messages. */
  logs: () => string;
  stop: () => Promise<void>;
}

/**
 * Runs a real, single-node Alertmanager whose only route sends every alert, as a group of
 * its own (`group_by: ['...']`) unless `groupBy` says otherwise, to one webhook with
 * `send_resolved`.
 */
export async function startAlertmanager(
  options: AlertmanagerOptions,
): Promise<RunningAlertmanager> {
  const dir = await mkdtemp(join(tmpdir(), "tocsin-alertmanager-"));
  const tokenFile = join(dir, "webhook-token");
  const configFile = join(dir, "alertmanager.yml");
  await writeFile(tokenFile, options.bearerToken, { mode: 0o600 });
  await writeFile(
    configFile,
    stringify({
      route: {
        receiver: "tocsin",
        group_by: options.groupBy ?? ["..."],
        group_wait: options.groupWait ?? "1s",
        group_interval: options.groupInterval ?? "1s",
        repeat_interval: options.repeatInterval ?? "2s",
      },
      receivers: [
        {
          name: "tocsin",
          webhook_configs: [
            {
              url: options.webhookUrl,
              send_resolved: true,
              max_alerts: options.maxAlerts ?? 0,
              http_config: { authorization: { type: "Bearer", credentials_file: tokenFile } },
            },
          ],
        },
      ],
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawnProcessGroup(ALERTMANAGER_BINARY, [
    `--config.file=${configFile}`,
    `--storage.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--cluster.listen-address=",
    "--log.level=debug",
  ]);
  const stop = async () => {
    await child.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const timeoutMs = options.readyTimeoutMs ?? 15_000;
  try {
    await Promise.race([
      pollUntil(async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), {
        what: `Alertmanager (${ALERTMANAGER_BINARY}) to answer ${url}/-/ready`,
        timeoutMs,
      }),
      child.exited.then((exit) => {
        throw new Error(`Alertmanager exited before it was ready (${JSON.stringify(exit)})`);
      }),
    ]);
  } catch (error) {
    const logs = child.output();
    await stop();
    throw new Error(`${(error as Error).message}\nAlertmanager's log:\n${logs}`, { cause: error });
  }
  return {
    url,
    logs: child.output,
    stop,
    postAlerts: async (alerts) => {
      const response = await fetch(`${url}/api/v2/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(alerts),
      });
      if (!response.ok) {
        throw new Error(
          `Alertmanager refused the alerts: ${response.status} ${await response.text()}`,
        );
      }
    },
    listAlerts: async () => {
      const response = await fetch(`${url}/api/v2/alerts`);
      if (!response.ok) throw new Error(`GET /api/v2/alerts: ${response.status}`);
      return (await response.json()) as GettableAlert[];
    },
  };
}

/**
 * Plays Prometheus: holds the current state of each alert and re-posts all of them every
 * `intervalMs`, as Prometheus re-sends active alerts after each rule evaluation. Posts are
 * serialised, so a change never lands before an older state posted earlier.
 */
export class AlertFeed {
  private readonly alerts = new Map<string, PostableAlert>();
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failure: unknown;
  posts = 0;

  constructor(
    private readonly alertmanager: RunningAlertmanager,
    private readonly intervalMs = 1_000,
  ) {}

  /** Sets the state of the alert called `key` and posts every alert at once. */
  async set(key: string, alert: PostableAlert): Promise<void> {
    this.alerts.set(key, alert);
    await this.postAll();
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.postAll().catch((error: unknown) => {
        this.failure ??= error;
      });
    }, this.intervalMs);
  }

  /** Stops re-posting; throws if a background post failed. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.chain.catch(() => undefined);
    if (this.failure) throw this.failure;
  }

  private postAll(): Promise<void> {
    const next = this.chain.then(async () => {
      await this.alertmanager.postAlerts([...this.alerts.values()]);
      this.posts++;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}

/**
 * Whether the real Alertmanager can run here. When it cannot: in CI a failing test says
 * what to install (CI must run the end-to-end tests); elsewhere a warning, and the caller
 * skips its suite.
 */
export function requireAlertmanager(suite: string): boolean {
  if (alertmanagerInstalled()) return true;
  const hint = `${ALERTMANAGER_BINARY} is missing: apt-get install prometheus-alertmanager (Debian bookworm ships 0.25)`;
  if (process.env.CI) {
    describe(suite, () => {
      it("needs Alertmanager installed in CI", () => {
        expect.fail(hint);
      });
    });
  } else {
    console.warn(`skipping ${suite}: ${hint}`);
  }
  return false;
}

/**
 * A big Alertmanager group, end to end: 1,600 alerts of one alert name (GPU memory pressure
 * across a 200-node fleet) travel in one webhook call of more than 1 MiB from a real
 * Alertmanager 0.25, and each becomes an incident. tocsin once answered such a call 413, and
 * Alertmanager, which never retries a 4xx, dropped the notification for good. With
 * `max_alerts`, the group arrives cut, and the incidents say how many alerts were left out.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfigFile } from "../../functions/adapters/config-file.js";
import type { Incident } from "../../functions/core/incident.js";
import { type LocalServer, startLocalServer } from "../../functions/local/server.js";
import {
  type RunningAlertmanager,
  requireAlertmanager,
  startAlertmanager,
} from "../support/alertmanager-process.js";
import { gpuFleetAlerts } from "../support/gpu-fleet.js";
import { pollUntil } from "../support/poll-until.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const installed = requireAlertmanager("the large Alertmanager group test");
const NODES = 200;
const GPUS = 8;

/**
 * One alert per GPU of the fleet, just fired (Alertmanager flushes a new group at once, with
 * whatever it holds by then, when its first alert started longer than group_wait ago).
 * Recorded only (info): the escalations of 1,600 incidents are not what is tested.
 */
const fleetAlerts = (run: string) => gpuFleetAlerts({ count: NODES * GPUS, severity: "info", run });

describe.skipIf(!installed)("a 1,600-alert Alertmanager group", { timeout: 240_000 }, () => {
  const webhookToken = randomBytes(24).toString("base64url");
  const apiToken = randomBytes(24).toString("base64url");
  let tocsin: LocalServer | undefined;
  let alertmanager: RunningAlertmanager | undefined;

  afterEach(async () => {
    await alertmanager?.stop();
    await tocsin?.close();
  });

  /** Every incident, page by page through the read API. */
  async function allIncidents(): Promise<Incident[]> {
    const incidents: Incident[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const response = await fetch(`${tocsin!.url}/incidents?limit=500${query}`, {
        headers: { authorization: `Bearer ${apiToken}` },
      });
      const page = (await response.json()) as { incidents: Incident[]; nextCursor: string | null };
      incidents.push(...page.incidents);
      cursor = page.nextCursor;
    } while (cursor);
    return incidents;
  }

  /** How many webhook calls tocsin took (its /metrics). */
  async function deliveriesReceived(): Promise<number> {
    const text = await (await fetch(`${tocsin!.url}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith("tocsin_webhooks_received_total"));
    return Number(line?.split(" ").at(-1) ?? 0);
  }

  async function start(maxAlerts: number) {
    tocsin = await startLocalServer({
      config: loadConfigFile(fileURLToPath(new URL("../../tocsin.yaml", import.meta.url))),
      host: "127.0.0.1",
      port: 0,
      dataDir: ":memory:",
      webhookToken,
      apiToken,
      logger: new Logger({ serviceName: "tocsin-e2e", logLevel: "ERROR" }),
    });
    alertmanager = await startAlertmanager({
      webhookUrl: `${tocsin.url}/webhooks/alertmanager`,
      bearerToken: webhookToken,
      groupBy: ["alertname"],
      maxAlerts,
      // Alertmanager takes in the 1,600 alerts of one POST well within this; its timeout for
      // a call is the group interval.
      groupWait: "5s",
      groupInterval: "30s",
      repeatInterval: "1h",
    });
  }

  const diagnostics = () =>
    `Alertmanager's log:\n${alertmanager?.logs().split("\n").slice(-30).join("\n")}`;

  it("arrives in one call over 1 MiB, and every alert becomes an incident", async () => {
    await start(0);
    const alerts = fleetAlerts("whole");
    // The webhook body carries all of this and more (status, fingerprint, group fields).
    expect(JSON.stringify(alerts).length).toBeGreaterThan(1024 * 1024);
    await alertmanager!.postAlerts(alerts);
    const incidents = await pollUntil(
      async () => {
        const found = await allIncidents();
        return found.length >= alerts.length ? found : undefined;
      },
      { what: "1,600 incidents in tocsin", timeoutMs: 180_000, intervalMs: 2_000, diagnostics },
    );
    expect(incidents).toHaveLength(alerts.length);
    expect(new Set(incidents.map((incident) => incident.fingerprint)).size).toBe(alerts.length);
    expect(new Set(incidents.map((incident) => incident.labels.UUID)).size).toBe(alerts.length);
    expect(incidents.every((incident) => incident.truncatedAlerts === 0)).toBe(true);
    // In one call, unless that call outlived the deadline on a loaded machine: then it was
    // answered 503 and Alertmanager called again (never a 4xx, which it would not retry).
    expect(await deliveriesReceived()).toBeGreaterThanOrEqual(1);
    const log = alertmanager!.logs();
    expect(log).not.toMatch(/unrecoverable/);
    expect(log).not.toMatch(/status code 413/);
  });

  it("cut by max_alerts, tells each incident how many alerts of the group were left out", async () => {
    await start(1_000);
    const alerts = fleetAlerts("cut");
    await alertmanager!.postAlerts(alerts);
    const incidents = await pollUntil(
      async () => {
        const found = await allIncidents();
        return found.length >= 1_000 ? found : undefined;
      },
      { what: "1,000 incidents in tocsin", timeoutMs: 180_000, intervalMs: 2_000, diagnostics },
    );
    expect(incidents).toHaveLength(1_000);
    expect(incidents.every((incident) => incident.truncatedAlerts === 600)).toBe(true);
  });
});

/**
 * GET /metrics on the local server: the counts the webhook path records, in Prometheus
 * text format, as Prometheus would scrape them.
 */
import { randomBytes } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServiceFiles } from "../../../functions/adapters/config-file.js";
import { type LocalServer, startLocalServer } from "../../../functions/local/server.js";
import { fixture } from "../../support/fixtures.js";
import { pollUntil } from "../../support/poll-until.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

describe("GET /metrics on the local server", { timeout: 60_000 }, () => {
  const webhookToken = randomBytes(24).toString("base64url");
  let local: LocalServer;

  beforeAll(async () => {
    const { config, runbooks } = loadServiceFiles("tocsin.yaml");
    local = await startLocalServer({
      config,
      runbooks,
      host: "127.0.0.1",
      port: 0,
      dataDir: ":memory:",
      webhookToken,
      apiToken: randomBytes(24).toString("base64url"),
      logger: new Logger({ serviceName: "tocsin", logLevel: "SILENT" }),
    });
  });
  afterAll(async () => {
    await local?.close();
  });

  const metricLines = async () => {
    const response = await fetch(`${local.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    return (await response.text()).split("\n");
  };

  it("counts two deliveries of one alert as one incident opened and one duplicate, and its notification", async () => {
    // Prepare
    const payload = JSON.stringify(fixture("alertmanager-0.25-firing-warning.json"));
    const before = await metricLines();

    // Act
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${local.url}/webhooks/alertmanager`, {
        method: "POST",
        headers: { authorization: `Bearer ${webhookToken}`, "content-type": "application/json" },
        body: payload,
      });
      expect(response.status).toBe(202);
    }
    // The Slack message goes out in the background; without a bot token it is not delivered.
    const notified = 'tocsin_notifications_total{channel="slack",outcome="not_delivered"} 1';
    const lines = await pollUntil(
      async () => ((await metricLines()).includes(notified) ? metricLines() : undefined),
      { what: "the Slack notification counted", timeoutMs: 10_000 },
    );
    await local.escalation.idle();

    // Assess
    expect(before).toContain("tocsin_alerts_deduplicated_total 0");
    expect(lines).toContain('tocsin_webhooks_received_total{source="alertmanager"} 2');
    expect(lines).toContain("tocsin_alerts_deduplicated_total 1");
    expect(lines.filter((l) => l.startsWith("tocsin_incidents_opened_total{"))).toEqual([
      'tocsin_incidents_opened_total{severity="warning"} 1',
    ]);
  });

  it("is not an API Gateway route: a POST is refused like any unknown method", async () => {
    const response = await fetch(`${local.url}/metrics`, { method: "POST" });

    expect(response.status).toBe(405);
  });
});

/**
 * examples/grafana/contact-points.yaml against Grafana's provisioning format and tocsin's
 * defaults: the webhook settings' names are those Grafana's webhook integration reads
 * (receivers/webhook/v1/config.go and receivers.HMACConfig in grafana/alerting), and a
 * request signed as Grafana signs it with those settings is accepted by tocsin as shipped.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { HttpEvent } from "../../../functions/adapters/http/types.js";
import {
  DEFAULT_GRAFANA_HEADERS,
  requireGrafanaSignature,
} from "../../../functions/integrations/grafana/signature.js";
import { fixture } from "../../support/fixtures.js";
import { httpEvent } from "../../support/http-events.js";

const text = readFileSync(
  new URL("../../../examples/grafana/contact-points.yaml", import.meta.url),
  "utf8",
);
const example = parse(text);
const receiver = example.contactPoints[0].receivers[0];

/** The JSON names of the webhook integration's settings in Grafana 12. */
const WEBHOOK_SETTINGS = [
  "url",
  "httpMethod",
  "maxAlerts",
  "authorization_scheme",
  "authorization_credentials",
  "username",
  "password",
  "title",
  "message",
  "tlsConfig",
  "hmacConfig",
  "headers",
  "payload",
  "http_config",
];
const HMAC_SETTINGS = ["secret", "header", "timestampHeader"];

describe("the Grafana contact point example", () => {
  it("uses only the settings Grafana's webhook integration reads", () => {
    expect(example.apiVersion).toBe(1);
    expect(receiver.type).toBe("webhook");
    for (const key of Object.keys(receiver.settings)) expect(WEBHOOK_SETTINGS).toContain(key);
    for (const key of Object.keys(receiver.settings.hmacConfig))
      expect(HMAC_SETTINGS).toContain(key);
  });

  it("never names a signature header that Grafana does not use", () => {
    // Grafana's default is X-Grafana-Alerting-Signature (http/hmac.go).
    expect(text).not.toMatch(/X-Grafana-Alert-Signature/i);
  });

  it("signs requests the way tocsin verifies them with no header settings", async () => {
    const { header, timestampHeader } = receiver.settings.hmacConfig;
    const secret = "a-shared-secret";
    const body = JSON.stringify(fixture("grafana-webhook-firing.json"));
    const timestamp = "1796031000";
    // Grafana's HMACRoundTripper: "<timestamp>:<body>" when timestampHeader is set.
    const signature = createHmac("sha256", secret)
      .update(timestampHeader ? `${timestamp}:${body}` : body)
      .digest("hex");
    const event: HttpEvent = {
      ...httpEvent({
        routeKey: "POST /webhooks/grafana",
        body,
        headers: {
          [(header ?? "X-Grafana-Alerting-Signature").toLowerCase()]: signature,
          ...(timestampHeader ? { [timestampHeader.toLowerCase()]: timestamp } : {}),
        },
      }),
      rawBody: body,
    };
    const check = requireGrafanaSignature(
      () => secret,
      () => new Date((Number(timestamp) + 30) * 1000),
      DEFAULT_GRAFANA_HEADERS,
    );
    // biome-ignore lint/suspicious/noExplicitAny: middy's request object, only `event` is read.
    await expect(check.before!({ event } as any)).resolves.toBeUndefined();
  });
});

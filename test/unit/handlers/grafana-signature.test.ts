/**
 * Grafana's webhook HMAC as Grafana sends it (http/hmac.go in grafana/alerting): lowercase
 * hex HMAC-SHA256 of the body, or of "<unix seconds>:<body>" when the contact point names
 * a timestamp header, in headers the contact point may rename. The timestamp header has
 * no default in Grafana.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { WebhookDeps } from "../../../functions/adapters/http/ingest-webhook.js";
import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { InvalidConfigError } from "../../../functions/core/errors.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import {
  type GrafanaSignatureHeaders,
  grafanaSignatureHeaders,
} from "../../../functions/integrations/grafana/signature.js";
import { grafanaWebhook } from "../../../functions/integrations/grafana/webhook.js";
import { localSettings } from "../../../functions/local/environment.js";
import { fixture } from "../../support/fixtures.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";

const TOKEN = "webhook-token-for-tests";
const SECRET = "grafana-hmac-secret";
const NOW = new Date("2026-11-30T09:30:00Z");
const NOW_SECONDS = String(NOW.getTime() / 1000);
const config = parseConfig(readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"));
const body = JSON.stringify(fixture("grafana-webhook-firing.json"));

/** What Grafana's HMACRoundTripper computes. */
const sign = (text: string, secret = SECRET) =>
  createHmac("sha256", secret).update(text).digest("hex");

let store: MemoryIncidentStore;
let deps: WebhookDeps;

beforeAll(async () => {});
beforeEach(async () => {
  store = new MemoryIncidentStore();
  let ids = 0;
  deps = {
    store,
    config,
    newId: () => `inc-${++ids}`,
    logger: new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" }),
    webhookToken: () => TOKEN,
    grafanaHmacSecret: () => SECRET,
    now: () => NOW,
  };
});

const send = (headers: Record<string, string>, names?: GrafanaSignatureHeaders) =>
  grafanaWebhook({ ...deps, grafanaHeaders: names })(
    httpEvent({
      routeKey: "POST /webhooks/grafana",
      body,
      // API Gateway and Node hand header names over in lower case.
      headers: Object.fromEntries(
        Object.entries({ authorization: `Bearer ${TOKEN}`, ...headers }).map(([k, v]) => [
          k.toLowerCase(),
          v,
        ]),
      ),
    }),
    lambdaContext,
  );
const parse = (result: { body?: string }) => JSON.parse(result.body ?? "null");
const stored = async () => (await store.list({ limit: 10 })).incidents;

describe("renamed signature header", () => {
  const names = grafanaSignatureHeaders({ TOCSIN_GRAFANA_SIGNATURE_HEADER: "X-Webhook-Signature" });

  it("accepts the signature in the header the contact point names", async () => {
    const result = await send({ "X-Webhook-Signature": sign(body) }, names);
    expect(result.statusCode).toBe(202);
    expect(await stored()).toHaveLength(1);
  });

  it("refuses a delivery without it, naming the header tocsin expected", async () => {
    const result = await send({ "X-Grafana-Alerting-Signature": sign(body) }, names);
    expect(result.statusCode).toBe(401);
    expect(parse(result)).toMatchObject({ error: "unauthorized" });
    expect(parse(result).message).toContain("the x-webhook-signature header is missing");
    expect(await stored()).toEqual([]);
  });
});

describe("timestamp header", () => {
  const names = grafanaSignatureHeaders({ TOCSIN_GRAFANA_TIMESTAMP_HEADER: "X-Signed-At" });

  it("accepts a signature of <timestamp>:<body> with the timestamp in the configured header", async () => {
    const result = await send(
      {
        "X-Grafana-Alerting-Signature": sign(`${NOW_SECONDS}:${body}`),
        "X-Signed-At": NOW_SECONDS,
      },
      names,
    );
    expect(result.statusCode).toBe(202);
  });

  it("says the configured timestamp header is missing, not that the signature is wrong", async () => {
    const result = await send({ "X-Grafana-Alerting-Signature": sign(body) }, names);
    expect(result.statusCode).toBe(401);
    expect(parse(result).message).toContain("the x-signed-at header is missing");
    expect(await stored()).toEqual([]);
  });

  it("is required once configured, even when the usual timestamp header is sent", async () => {
    const result = await send(
      {
        "X-Grafana-Alerting-Signature": sign(`${NOW_SECONDS}:${body}`),
        "X-Grafana-Alerting-Timestamp": NOW_SECONDS,
      },
      names,
    );
    expect(result.statusCode).toBe(401);
    expect(parse(result).message).toContain("the x-signed-at header is missing");
  });

  it("when not configured, points at the setting if the body alone does not match", async () => {
    // Grafana signed with a timestamp in a header tocsin was not told about.
    const result = await send({
      "X-Grafana-Alerting-Signature": sign(`${NOW_SECONDS}:${body}`),
      "X-Custom-Timestamp": NOW_SECONDS,
    });
    expect(result.statusCode).toBe(401);
    expect(parse(result).message).toMatch(
      /does not match the body.*TOCSIN_GRAFANA_TIMESTAMP_HEADER/,
    );
  });

  it.each([
    ["stale", String(NOW.getTime() / 1000 - 301), /more than 5 minutes/],
    ["in the future", String(NOW.getTime() / 1000 + 301), /more than 5 minutes/],
    ["not a number", "yesterday", /not a Unix time in seconds/],
  ])("refuses a timestamp %s, naming its header", async (_case, timestamp, message) => {
    const result = await send(
      { "X-Grafana-Alerting-Signature": sign(`${timestamp}:${body}`), "X-Signed-At": timestamp },
      names,
    );
    expect(result.statusCode).toBe(401);
    expect(parse(result).message).toMatch(message);
    expect(parse(result).message).toContain("x-signed-at");
    expect(await stored()).toEqual([]);
  });

  it("refuses a signature made with another secret, saying what it checked", async () => {
    const result = await send(
      {
        "X-Grafana-Alerting-Signature": sign(`${NOW_SECONDS}:${body}`, "other"),
        "X-Signed-At": NOW_SECONDS,
      },
      names,
    );
    expect(result.statusCode).toBe(401);
    expect(parse(result).message).toContain("does not match <x-signed-at>:<body>");
  });
});

describe("grafanaSignatureHeaders", () => {
  it("defaults to Grafana's own signature header and no timestamp header", () => {
    expect(grafanaSignatureHeaders({})).toEqual({
      signature: "x-grafana-alerting-signature",
      timestamp: null,
    });
  });

  it("reads both names, in lower case as requests carry them", () => {
    expect(
      grafanaSignatureHeaders({
        TOCSIN_GRAFANA_SIGNATURE_HEADER: " X-Sig ",
        TOCSIN_GRAFANA_TIMESTAMP_HEADER: "X-Grafana-Alerting-Timestamp",
      }),
    ).toEqual({ signature: "x-sig", timestamp: "x-grafana-alerting-timestamp" });
  });

  it("are what the local server takes from its environment", () => {
    expect(
      localSettings({ TOCSIN_GRAFANA_TIMESTAMP_HEADER: "X-Signed-At" }).grafanaHeaders,
    ).toEqual({ signature: "x-grafana-alerting-signature", timestamp: "x-signed-at" });
    expect(() => localSettings({ TOCSIN_GRAFANA_SIGNATURE_HEADER: "a b" })).toThrow(
      InvalidConfigError,
    );
  });

  it.each([
    [{ TOCSIN_GRAFANA_SIGNATURE_HEADER: "X Sig" }, /TOCSIN_GRAFANA_SIGNATURE_HEADER must be/],
    [{ TOCSIN_GRAFANA_TIMESTAMP_HEADER: "x:ts" }, /TOCSIN_GRAFANA_TIMESTAMP_HEADER must be/],
    [{ TOCSIN_GRAFANA_SIGNATURE_HEADER: "Authorization" }, /has another use/],
    [
      { TOCSIN_GRAFANA_SIGNATURE_HEADER: "X-A", TOCSIN_GRAFANA_TIMESTAMP_HEADER: "x-a" },
      /name the same header/,
    ],
  ])("refuses %j, naming the variable", (env, message) => {
    expect(() => grafanaSignatureHeaders(env)).toThrow(InvalidConfigError);
    expect(() => grafanaSignatureHeaders(env)).toThrow(message);
  });
});

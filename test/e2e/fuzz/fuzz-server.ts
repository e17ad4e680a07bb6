/**
 * What the fuzz tests share: tocsin's local server as `npm start` composes it, a snapshot of
 * its whole table, a raw-socket client that can send from any loopback address, the checks
 * every answer must pass, and the hostile values the generators draw from.
 */
import { randomBytes } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { ScanCommand, type ScanCommandOutput } from "@aws-sdk/client-dynamodb";
import fc from "fast-check";
import { afterAll, beforeAll, expect } from "vitest";
import { loadServiceFiles } from "../../../functions/adapters/config-file.js";
import type { Config, RouteNode } from "../../../functions/core/config.js";
import {
  LOCAL_TABLE,
  type LocalServer,
  startLocalServer,
} from "../../../functions/local/server.js";
import { type RawAnswer, rawJson, rawRequest } from "../../support/raw-http.js";

/**
 * Every run is seeded (the same cases each time; a failure names its seed and path) and
 * bounded twice: by a number of runs, and by a time limit past which fast-check stops
 * without failing, so a loaded machine runs fewer cases rather than a slower suite.
 * FUZZ_SEED and FUZZ_TIME_MS (with FUZZ_RUNS) explore further: `FUZZ_SEED=7 FUZZ_TIME_MS=60000
 * FUZZ_RUNS=100000 npx vitest run test/fuzz`.
 */
export function fuzzOptions(numRuns: number, seed: number) {
  return {
    numRuns: Number(process.env.FUZZ_RUNS ?? numRuns),
    seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) + seed : seed,
    interruptAfterTimeLimit: Number(process.env.FUZZ_TIME_MS ?? 1_500),
    markInterruptAsFailure: false,
  };
}

/**
 * The shipped tocsin.yaml with every channel and escalation taken out (routes, teams, runbooks
 * and matchers kept): an accepted alert is stored and routed but starts no escalation, so
 * nothing writes to the table in the background and a snapshot before and after a request
 * says exactly what that request wrote.
 */
export function inert(config: Config): Config {
  const quiet = (node: RouteNode): RouteNode => ({
    ...node,
    ...(node.channels ? { channels: [] } : {}),
    ...(node.escalation !== undefined ? { escalation: null } : {}),
    routes: node.routes.map(quiet),
  });
  const silent = (policy: Config["severities"]["info"]) => ({
    ...policy,
    channels: [],
    escalation: null,
  });
  const { critical, high, warning, info } = config.severities;
  const severities = {
    critical: silent(critical),
    high: silent(high),
    warning: silent(warning),
    info: silent(info),
  };
  return { ...config, severities, ...(config.route ? { route: quiet(config.route) } : {}) };
}

export interface FuzzServer {
  local: LocalServer;
  url: string;
  webhookToken: string;
  apiToken: string;
  slackSigningSecret: string;
  /** What PagerDuty v3 webhooks are signed with (PAGERDUTY_WEBHOOK_SECRETS). */
  pagerDutyWebhookSecret: string;
  /** Every item in the table, sorted, as one string. */
  snapshot(): Promise<string>;
  close(): Promise<void>;
}

export async function startFuzzServer(): Promise<FuzzServer> {
  const { config, runbooks } = loadServiceFiles("tocsin.yaml");
  const webhookToken = randomBytes(24).toString("base64url");
  const apiToken = randomBytes(24).toString("base64url");
  const slackSigningSecret = randomBytes(16).toString("hex");
  const pagerDutyWebhookSecret = randomBytes(16).toString("hex");
  const local = await startLocalServer({
    config: inert(config),
    runbooks,
    host: "127.0.0.1",
    port: 0,
    dataDir: ":memory:",
    webhookToken,
    apiToken,
    slack: { signingSecret: slackSigningSecret },
    pagerDutyWebhookSecrets: pagerDutyWebhookSecret,
    logger: new Logger({ serviceName: "tocsin", logLevel: "SILENT" }),
  });
  const snapshot = async () => {
    const items: string[] = [];
    let start: ScanCommandOutput["LastEvaluatedKey"];
    do {
      const page = await local.dynamoClient.send(
        new ScanCommand({ TableName: LOCAL_TABLE, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) items.push(JSON.stringify(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return items.sort().join("\n");
  };
  return {
    local,
    url: local.url,
    webhookToken,
    apiToken,
    slackSigningSecret,
    pagerDutyWebhookSecret,
    snapshot,
    close: () => local.close(),
  };
}

export interface FuzzFile {
  readonly server: FuzzServer;
  /** After a request: unless it was `accepted`, the table must be as the last check left it. */
  expectWrittenOnlyIfAccepted(
    what: string,
    accepted: boolean,
    options?: { compare?: boolean },
  ): Promise<void>;
}

/** A fuzz server for the tests of this file (started before them, closed after), and its table. */
export function useFuzzServer(): FuzzFile {
  let server: FuzzServer | undefined;
  let before = "";
  beforeAll(async () => {
    server = await startFuzzServer();
    before = await server.snapshot();
  });
  afterAll(async () => {
    await server?.close();
  });
  const started = () => {
    if (!server) throw new Error("the fuzz server has not started");
    return server;
  };
  return {
    get server() {
      return started();
    },
    async expectWrittenOnlyIfAccepted(what, accepted, { compare = true } = {}) {
      const after = await started().snapshot();
      if (!accepted && compare) expect(after, `${what} was refused but wrote`).toBe(before);
      before = after;
    },
  };
}

let nextAddress = 0;
/**
 * A loopback address of its own (127.1.0.0/16: Linux answers on all of 127/8), so that the
 * wrong tokens one case sends do not make the token throttle refuse the next case's right one.
 */
export function freshClientAddress(): string {
  nextAddress = (nextAddress + 1) % 65_000;
  return `127.1.${nextAddress >> 8}.${nextAddress & 255}`;
}

/** Sends raw bytes from `from` (default 127.0.0.1). */
export function send(
  url: string,
  bytes: string | Buffer,
  options: { from?: string; hangUp?: boolean } = {},
): Promise<RawAnswer> {
  return rawRequest(url, bytes, options);
}

/** A request as bytes: the request line and headers as given, Host and Connection: close added. */
export function requestBytes(
  method: string,
  target: string,
  headers: ReadonlyArray<readonly [string, string]>,
  body: Buffer | string = "",
): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
  const head = [
    `${method} ${target} HTTP/1.1`,
    "Host: 127.0.0.1",
    "Connection: close",
    ...headers.map(([name, value]) => `${name}: ${value}`),
    ...(bytes.length > 0 && !headers.some(([n]) => /^(content-length|transfer-encoding)$/i.test(n))
      ? [`Content-Length: ${bytes.length}`]
      : []),
  ].join("\r\n");
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, "utf8"), bytes]);
}

/**
 * What every answer must be: an answer (the server did not drop the connection), below 500
 * (no storage fault is injected here, so not even 503), and, when refused, a JSON body
 * `{error, message}` or an HTML page (the history page's routes) rather than a bare status.
 */
export function expectSoundAnswer(
  answer: RawAnswer,
  what: string,
  options: { head?: boolean } = {},
): number {
  expect(answer.status, `${what}: no answer at all`).not.toBeNull();
  const status = answer.status!;
  expect(status, `${what}: ${answer.text.slice(0, 600)}`).toBeLessThan(500);
  // An answer to HEAD has the headers of the answer to GET, and no body.
  if (status >= 400 && !options.head) {
    const head = answer.text.slice(0, answer.text.indexOf("\r\n\r\n")).toLowerCase();
    if (head.includes("content-type: application/json")) {
      expect(rawJson(answer), `${what}: ${answer.text.slice(0, 600)}`).toMatchObject({
        error: expect.any(String),
        message: expect.any(String),
      });
    } else {
      expect(head, `${what}: a refusal that is neither JSON nor a page`).toContain(
        "content-type: text/html",
      );
    }
  }
  return status;
}

/** The server is still there and answers as before. */
export async function expectAlive(url: string): Promise<void> {
  const answer = await send(url, requestBytes("GET", "/healthz", []));
  expect(answer.status, answer.text).toBe(200);
  expect(rawJson(answer)).toEqual({ status: "ok" });
}

/** Strings that have broken parsers before: encodings, keys of Object.prototype, sizes, markup. */
export const NASTY = [
  "",
  "%",
  "%ZZ",
  "%E0%A4%A",
  "%C0%AF",
  "%00",
  "%2F..%2F",
  "..",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "\u0000",
  "\ud83d",
  "🔥",
  "<script>alert(1)</script>",
  "=1+1",
  "a;=1+1",
  "$" + "{jndi:ldap://x}",
  "' OR '1'='1",
  "-1",
  "1e309",
  "NaN",
  "9999-99-99",
  "2026-11-30T09:00:00Z",
  "a".repeat(2_100),
  "é".repeat(1_100),
] as const;

/** A hostile string: one of NASTY, or arbitrary text (any code point, lone surrogates too). */
export const hostile = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.nat({ max: 5_000 }).map((n) => "x".repeat(n)) },
);

/**
 * `value` as it may appear in a request target: percent-encoded; printable ASCII left raw
 * (`%ZZ` stays malformed); or raw bytes, which Node's parser mostly refuses.
 */
export function inTarget(value: string, how: "encoded" | "raw" | "mixed"): string {
  const text = wellFormed(value);
  if (how === "encoded") return encodeURIComponent(text);
  if (how === "raw") return text.replace(/[\r\n ]/g, "");
  // Printable ASCII left as it is (a `%` may start a malformed escape), the rest encoded.
  return text.replace(/[^\x21-\x7e]|[#?&=+]/gu, (c) => encodeURIComponent(c));
}

/** `value` with each lone surrogate (which has no UTF-8 form: encodeURIComponent throws) as U+FFFD. */
export function wellFormed(value: string): string {
  return value.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    "\ufffd",
  );
}

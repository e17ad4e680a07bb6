import { Logger } from "@aws-lambda-powertools/logger";
import {
  DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServiceFiles } from "../../../functions/adapters/config-file.js";
import {
  type EmbeddedDynamo,
  startEmbeddedDynamo,
} from "../../../functions/local/embedded-dynamodb.js";
import { localSettings } from "../../../functions/local/environment.js";
import { type LocalServer, startLocalServer } from "../../../functions/local/server.js";
import { DynamoFaultProxy, seededRandom } from "../../support/fault-proxy.js";
import { freePort } from "../../support/free-port.js";
import { postAlert } from "../../support/post-alert.js";

const TABLE = "fault-proxy";

/** A client through the proxy; `maxAttempts: 1` shows each fault as the SDK classifies it. */
const clientThrough = (endpoint: string, maxAttempts = 1, requestTimeout?: number) =>
  new DynamoDBClient({
    endpoint,
    region: "local",
    credentials: { accessKeyId: "t", secretAccessKey: "t" },
    maxAttempts,
    ...(requestTimeout
      ? { requestHandler: new NodeHttpHandler({ requestTimeout, throwOnRequestTimeout: true }) }
      : {}),
  });

const put = (id: string) =>
  new PutItemCommand({ TableName: TABLE, Item: { pk: { S: id }, sk: { S: "x" } } });
const get = (id: string) =>
  new GetItemCommand({ TableName: TABLE, Key: { pk: { S: id }, sk: { S: "x" } } });

describe("DynamoFaultProxy in front of dynalite, seen by the AWS SDK", () => {
  let dynamo: EmbeddedDynamo;
  let proxy: DynamoFaultProxy;
  let direct: DynamoDBClient;

  beforeAll(async () => {
    const port = await freePort();
    proxy = await DynamoFaultProxy.start({ upstream: `http://127.0.0.1:${port}` });
    dynamo = await startEmbeddedDynamo(":memory:", TABLE, {
      port,
      clientEndpoint: proxy.endpoint,
    });
    direct = clientThrough(dynamo.endpoint);
  });
  afterAll(async () => {
    direct.destroy();
    await proxy.close();
    await dynamo.close();
  });

  it("passes requests through when no fault is planned (the table was created through it)", async () => {
    const client = clientThrough(proxy.endpoint);
    const before = proxy.stats.forwarded;
    await client.send(put("plain"));
    const read = await client.send(get("plain"));
    expect(read.Item?.pk?.S).toBe("plain");
    expect(proxy.stats.forwarded - before).toBe(2);
    client.destroy();
  });

  it("throttles as DynamoDB does: 400 ProvisionedThroughputExceededException, retried by the SDK", async () => {
    const once = clientThrough(proxy.endpoint);
    proxy.failNext("throttle");
    const error = await once.send(put("throttled")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect((error as ProvisionedThroughputExceededException).$metadata.httpStatusCode).toBe(400);
    expect((await direct.send(get("throttled"))).Item).toBeUndefined();
    once.destroy();

    const retrying = clientThrough(proxy.endpoint, 3);
    proxy.failNext("throttle", 2);
    const stored = await retrying.send(put("throttled"));
    expect(stored.$metadata.attempts).toBe(3);
    retrying.destroy();
  });

  it("answers DynamoDB's InternalServerError with 500", async () => {
    const client = clientThrough(proxy.endpoint);
    proxy.failNext("internal");
    const error = await client.send(put("internal")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as InternalServerError).$metadata.httpStatusCode).toBe(500);
    client.destroy();
  });

  it("resets the connection before the write, or after it (written, the answer lost)", async () => {
    const client = clientThrough(proxy.endpoint);
    proxy.failNext("reset");
    const before = await client.send(put("reset-before")).catch((e: unknown) => e);
    expect((before as NodeJS.ErrnoException).code).toBe("ECONNRESET");
    expect((await direct.send(get("reset-before"))).Item).toBeUndefined();

    proxy.failNext("reset-after");
    const after = await client.send(put("reset-after")).catch((e: unknown) => e);
    expect((after as NodeJS.ErrnoException).code).toBe("ECONNRESET");
    expect((await direct.send(get("reset-after"))).Item?.pk?.S).toBe("reset-after");
    client.destroy();
  });

  it("hangs until the client gives up, and counts what it held", async () => {
    const client = clientThrough(proxy.endpoint, 1, 300);
    proxy.failNext("hang");
    const hung = client.send(put("hung")).catch((e: unknown) => e);
    await expect.poll(() => proxy.hanging).toBe(1);
    const error = await hung;
    expect((error as Error).name).toBe("TimeoutError");
    await expect.poll(() => proxy.hanging).toBe(0);
    expect((await direct.send(get("hung"))).Item).toBeUndefined();
    client.destroy();
  });

  it("faults at random at the planned rate, replayably for one seed", async () => {
    const draws = (seed: number) => Array.from({ length: 5 }, seededRandom(seed));
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    const client = clientThrough(proxy.endpoint);
    const before = { ...proxy.stats.faults };
    proxy.setFaults({ rate: 0.5, kinds: ["throttle", "internal"] });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => client.send(put(`random-${i}`))),
    );
    proxy.setFaults(null);
    const failed = results.filter((r) => r.status === "rejected").length;
    const injected =
      proxy.stats.faults.throttle -
      before.throttle +
      (proxy.stats.faults.internal - before.internal);
    expect(failed).toBe(injected);
    expect(failed).toBeGreaterThan(60);
    expect(failed).toBeLessThan(140);
    client.destroy();
  });
});

describe("the local server with TOCSIN_DYNAMODB_PORT and TOCSIN_DYNAMODB_ENDPOINT", () => {
  let proxy: DynamoFaultProxy;
  let local: LocalServer;

  afterAll(async () => {
    await local?.close();
    await proxy?.close();
  });

  it("sends every DynamoDB request of the service through the endpoint given", async () => {
    const port = await freePort();
    proxy = await DynamoFaultProxy.start({ upstream: `http://127.0.0.1:${port}` });
    const settings = localSettings({
      TOCSIN_DATA_DIR: ":memory:",
      TOCSIN_WEBHOOK_TOKEN: "proxy-webhook",
      TOCSIN_API_TOKEN: "proxy-api",
      TOCSIN_DYNAMODB_PORT: String(port),
      TOCSIN_DYNAMODB_ENDPOINT: proxy.endpoint,
      PORT: "0",
    });
    expect(settings.dynamo).toEqual({ port, endpoint: proxy.endpoint });
    const { config, runbooks } = loadServiceFiles("tocsin.yaml");
    const logger = new Logger({ serviceName: "tocsin", logLevel: "SILENT" });
    local = await startLocalServer({ ...settings, config, runbooks, logger });
    expect(local.dynamoEndpoint).toBe(`http://127.0.0.1:${port}`);
    const before = proxy.stats.forwarded;
    const posted = await postAlert(local.url, "proxy-webhook", {
      labels: { alertname: "ProxyCheck", severity: "info", team: "platform" },
    });
    expect(posted.status).toBe(202);
    expect(proxy.stats.forwarded - before).toBeGreaterThanOrEqual(3);

    // A storage fault on the way reaches the service: the delivery is not stored.
    proxy.setFaults({ rate: 1, kinds: ["throttle"] });
    const refused = await postAlert(local.url, "proxy-webhook", {
      labels: { alertname: "ProxyCheck2", severity: "info", team: "platform" },
    });
    proxy.setFaults(null);
    expect(refused.status).toBe(503);
  });

  it("refuses settings that are not a port or a URL", () => {
    expect(() => localSettings({ TOCSIN_DYNAMODB_PORT: "99999" })).toThrow(
      /TOCSIN_DYNAMODB_PORT must be a port number/,
    );
    expect(() => localSettings({ TOCSIN_DYNAMODB_ENDPOINT: "not a url" })).toThrow(
      /TOCSIN_DYNAMODB_ENDPOINT must be an http\(s\) URL/,
    );
    expect(localSettings({}).dynamo).toEqual({ port: 0, endpoint: undefined });
  });
});

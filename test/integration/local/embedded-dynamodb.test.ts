/**
 * The embedded DynamoDB that `npm start` and the tests run on: a new table is CREATING for a
 * while, on dynalite as on DynamoDB, and nothing may use it before it is ACTIVE; dynalite
 * runs on a thread of its own, so a storm's DynamoDB work does not wait for the service's.
 */
import { Worker } from "node:worker_threads";
import { DescribeTableCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import {
  type EmbeddedDynamo,
  startEmbeddedDynamo,
} from "../../../functions/local/embedded-dynamodb.js";
import { freshTable } from "../../support/dynamo.js";

/**
 * Asks DynamoDB at `workerData.endpoint` for its tables from a thread of its own, and sets
 * `workerData.answer[0]` to 1 (the tables include `workerData.table`) or 2 (anything else).
 */
const LIST_TABLES_ON_A_THREAD = `
  const { workerData } = require("node:worker_threads");
  const done = (value) => {
    Atomics.store(workerData.answer, 0, value);
    Atomics.notify(workerData.answer, 0);
  };
  fetch(workerData.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "DynamoDB_20120810.ListTables",
      "x-amz-date": "20261202T000000Z",
      authorization:
        "AWS4-HMAC-SHA256 Credential=local/20261202/local/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
    },
    body: "{}",
  })
    .then((response) => response.json())
    .then((body) => done(body.TableNames && body.TableNames.includes(workerData.table) ? 1 : 2))
    .catch(() => done(2));
`;

describe("embedded DynamoDB on a fresh data directory", () => {
  const started: EmbeddedDynamo[] = [];
  afterAll(async () => {
    for (const dynamo of started) await dynamo.close();
  });

  it("returns once tocsin's table is ACTIVE, so the first write finds it", async () => {
    // Prepare: a table takes 300 ms to become ACTIVE, as DynamoDB takes seconds.
    const dynamo = await startEmbeddedDynamo(":memory:", "slow", { createTableMs: 300 });
    started.push(dynamo);

    // Act
    const table = await dynamo.client.send(new DescribeTableCommand({ TableName: "slow" }));
    const put = dynamo.client.send(
      new PutItemCommand({ TableName: "slow", Item: { pk: { S: "a" }, sk: { S: "b" } } }),
    );

    // Assess
    expect(table.Table?.TableStatus).toBe("ACTIVE");
    await expect(put).resolves.toBeDefined();
  });

  it("gives tests a fresh table only once it is ACTIVE", async () => {
    const dynamo = await startEmbeddedDynamo(":memory:", "bootstrap", { createTableMs: 300 });
    started.push(dynamo);

    const name = await freshTable(dynamo.client);

    const table = await dynamo.client.send(new DescribeTableCommand({ TableName: name }));
    expect(table.Table?.TableStatus).toBe("ACTIVE");
  });

  it("answers while the thread that started it is blocked: dynalite runs on a thread of its own", async () => {
    // Prepare: a client on another thread, which flags the answer in shared memory.
    const dynamo = await startEmbeddedDynamo(":memory:", "apart");
    started.push(dynamo);
    const answer = new Int32Array(new SharedArrayBuffer(4));

    // Act: this thread blocks (no event loop runs here) until the client has its answer.
    const client = new Worker(LIST_TABLES_ON_A_THREAD, {
      eval: true,
      workerData: { endpoint: dynamo.endpoint, table: "apart", answer },
    });
    const woke = Atomics.wait(answer, 0, 0, 20_000);
    await client.terminate();

    // Assess: answered, and by tocsin's DynamoDB (dynalite sharing this thread could not).
    expect(woke).not.toBe("timed-out");
    expect(answer[0]).toBe(1);
  });

  it("counts the HTTP requests it received", async () => {
    const dynamo = await startEmbeddedDynamo(":memory:", "counted");
    started.push(dynamo);
    const before = dynamo.requestsReceived();

    await dynamo.client.send(new DescribeTableCommand({ TableName: "counted" }));
    await dynamo.client.send(new DescribeTableCommand({ TableName: "counted" }));

    expect(dynamo.requestsReceived() - before).toBe(2);
  });
});

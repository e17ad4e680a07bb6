/**
 * The embedded DynamoDB that `npm start` and the tests run on: a new table is CREATING for a
 * while, on dynalite as on DynamoDB, and nothing may use it before it is ACTIVE.
 */
import { DescribeTableCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import {
  type EmbeddedDynamo,
  startEmbeddedDynamo,
} from "../../functions/local/embedded-dynamodb.js";
import { freshTable } from "../support/dynamo.js";

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
});

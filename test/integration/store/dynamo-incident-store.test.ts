import { CreateTableCommand, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import {
  createTableInput,
  OWED_STATE_INDEX,
  TTL_ATTRIBUTE,
} from "../../../functions/adapters/dynamodb/table-schema.js";
import { openIncident } from "../../../functions/core/incident.js";
import { type EmbeddedDynamo, untilActive } from "../../../functions/local/embedded-dynamodb.js";
import { incidentStoreContract } from "../../support/contracts/incident-store.contract.js";
import {
  clientFor,
  freshTable,
  injectFaults,
  startTestDynamo,
  storeFaults,
} from "../../support/dynamo.js";
import { alert, at, candidate, ROUTING, resolveAt } from "../../support/incidents.js";
import { act, command, fired } from "../../support/lifecycle.js";

let dynamo: EmbeddedDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

incidentStoreContract("DynamoDB (dynalite)", async () => {
  const client = clientFor(dynamo.endpoint);
  const faults = storeFaults(client);
  const store = new DynamoIncidentStore(client, await freshTable(client));
  return { store, faults };
});

describe("DynamoDB specifics: retention", () => {
  it("sets the TTL on the incident and its fingerprint: the retention after they were last written", async () => {
    // Prepare
    const client = clientFor(dynamo.endpoint);
    const table = await freshTable(client);
    const store = new DynamoIncidentStore(client, table, { retentionSeconds: 86_400 });
    const fresh = candidate("fp-ttl", at(0));
    // Act
    await fired(store, fresh);
    await fired(store, candidate("fp-ttl", at(30), {}, at(0)));
    // Assess
    const item = async (pk: string, sk: string) =>
      (
        await client.send(
          new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } } }),
        )
      ).Item;
    const epoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);
    expect((await item(`INC#${fresh.id}`, "INC"))?.[TTL_ATTRIBUTE]).toEqual({
      N: String(epoch(at(0)) + 86_400),
    });
    expect((await item("FP#fp-ttl", "FP"))?.[TTL_ATTRIBUTE]).toEqual({
      N: String(epoch(at(30)) + 86_400),
    });
    expect(await store.get(fresh.id)).not.toHaveProperty(TTL_ATTRIBUTE);
  });
});

describe("DynamoDB specifics: test incidents in lists and reports", () => {
  it("marks the test incidents, reading the items of only those whose title may be a test's", async () => {
    // Prepare: a test incident, a real one whose summary happens to start like a test's
    // title, and an ordinary one. The indexes do not project `test`.
    const client = clientFor(dynamo.endpoint);
    const faults = injectFaults(client);
    const store = new DynamoIncidentStore(client, await freshTable(client));
    const open = (id: string, fingerprint: string, overrides: Parameters<typeof alert>[1]) =>
      openIncident({
        id,
        alert: alert(fingerprint, { startsAt: at(0), ...overrides }),
        routing: ROUTING,
        runbook: null,
        now: at(0),
      });
    const test = open("inc-test", "fp-test", { source: "grafana", test: true });
    const lookalike = open("inc-lookalike", "fp-lookalike", {
      annotations: { summary: "Grafana test: the dashboards are down" },
    });
    const ordinary = open("inc-ordinary", "fp-ordinary", {});
    for (const incident of [test, lookalike, ordinary]) await fired(store, incident);
    const range = { since: at(-60), until: at(60), maxIncidents: 100 };
    // Act
    faults.sent.length = 0;
    const report = await store.listForReport(range);
    const reportRequests = [...faults.sent];
    const listed = await store.list({ limit: 10 });
    const byStatus = await store.list({ limit: 10, status: "triggered" });
    // Assess
    expect(test.title).toMatch(/^Grafana test: /);
    const tests = (incidents: ReadonlyArray<{ id: string; test?: boolean }>) =>
      incidents.filter((i) => i.test).map((i) => i.id);
    expect(tests(report.incidents)).toEqual(["inc-test"]);
    expect(tests(listed.incidents)).toEqual(["inc-test"]);
    expect(tests(byStatus.incidents)).toEqual(["inc-test"]);
    expect(report.incidents).toHaveLength(3);
    expect(report.incidents[0]).not.toHaveProperty("title");
    // One Query, then one BatchGetItem for the two that may be tests.
    expect(reportRequests).toEqual(["QueryCommand", "BatchGetItemCommand"]);
  });

  it("reads no incident item for a report or a list without anything titled like a test", async () => {
    // Prepare
    const client = clientFor(dynamo.endpoint);
    const faults = injectFaults(client);
    const store = new DynamoIncidentStore(client, await freshTable(client));
    await fired(store, candidate("fp-plain", at(0)));
    await store.resolveFingerprint(candidate("fp-plain", at(5), {}, at(0)), resolveAt(at(5)));
    // Act
    faults.sent.length = 0;
    await store.listForReport({ since: at(-60), until: at(60), maxIncidents: 100 });
    await store.list({ limit: 10 });
    // Assess: resolved, so not even the fingerprint's live counters are read.
    expect(faults.sent).toEqual(["QueryCommand", "QueryCommand"]);
  });
});

describe("DynamoDB specifics: a table made before the owed-state index", () => {
  it("still finds the owed states (a local data dir of an older tocsin; dynalite cannot add an index)", async () => {
    // Prepare: the table as tocsin made it before the index existed.
    const client = clientFor(dynamo.endpoint);
    const table = `before-owed-index-${process.pid}`;
    const input = createTableInput(table);
    await client.send(
      new CreateTableCommand({
        ...input,
        AttributeDefinitions: input.AttributeDefinitions!.filter(
          (a) => a.AttributeName !== OWED_STATE_INDEX.partition,
        ),
        GlobalSecondaryIndexes: input.GlobalSecondaryIndexes!.filter(
          (i) => i.IndexName !== OWED_STATE_INDEX.name,
        ),
      }),
    );
    await untilActive(client, table);
    const store = new DynamoIncidentStore(client, table);
    const owed = candidate("fp-old-table", at(0));
    await fired(store, owed);
    await fired(store, candidate("fp-old-table-quiet", at(0)));
    // Act
    await act(store, owed.id, command("acknowledge", "erin"), at(1), { mirrored: true });
    // Assess
    expect(await store.owedStates()).toEqual([{ id: owed.id, state: "acknowledged" }]);
  });
});

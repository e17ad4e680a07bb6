import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../functions/adapters/dynamodb/incident-store.js";
import type { EmbeddedDynamo } from "../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../support/dynamo.js";
import { FakeSns } from "../support/fake-sns.js";
import { lambdaContext } from "../support/http-events.js";
import { candidate } from "../support/incidents.js";
import { setLambdaEnvironment } from "../support/lambda-environment.js";
import { fired } from "../support/lifecycle.js";

/**
 * The escalation function as Lambda runs it (functions/entry/lambda-runtime.ts), its AWS
 * services on 127.0.0.1: DynamoDB (dynalite) and SNS (a fake of its Query protocol). It is
 * given only what its Tasks need: no webhook, API or Slack signing secret.
 */
const TOPIC = "arn:aws:sns:eu-west-1:123456789012:tocsin-oncall";

let dynamo: EmbeddedDynamo;
let sns: FakeSns;
let store: DynamoIncidentStore;
let handler: (event: unknown, context: typeof lambdaContext) => Promise<unknown>;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  sns = await FakeSns.start([TOPIC]);
  const client = clientFor(dynamo.endpoint);
  const table = await freshTable(client);
  store = new DynamoIncidentStore(client, table);
  // No webhook, API or Slack secret: the escalation function composes its Tasks' parts only.
  setLambdaEnvironment({
    table,
    endpoints: { DYNAMODB: dynamo.endpoint, SNS: sns.url },
    variables: { EMAIL_TOPICS: JSON.stringify({ "oncall@example.com": TOPIC }) },
  });
  const { escalationLambdaHandler } = await import("../../functions/entry/lambda-runtime.js");
  handler = (await escalationLambdaHandler()) as typeof handler;
}, 30_000);

afterAll(async () => {
  await sns?.close();
  await dynamo?.close();
});

describe("the escalation function on Lambda", () => {
  it("leaves retrying to the delivery pipeline: one SNS request per attempt, each on the timeline", async () => {
    // Prepare: an incident told to email only; SNS fails once with a 500.
    const incident = candidate("fp-lambda-email", new Date().toISOString(), {
      channels: ["email-oncall"],
      escalation: null,
    });
    await fired(store, incident);
    sns.failNext({ status: 500, code: "InternalError" });

    // Act: the state machine's first Task.
    const output = await handler(
      { action: "step", incidentId: incident.id, step: 0 },
      lambdaContext,
    );

    // Assess: two requests, both made by the retry stage (the SDK's own retry would have
    // made the second within one attempt), and the timeline says so.
    expect(output).toMatchObject({ incidentId: incident.id, done: true });
    expect(sns.publishes.map((p) => [p.topicArn, p.status])).toEqual([
      [TOPIC, 500],
      [TOPIC, 200],
    ]);
    const stored = await store.get(incident.id);
    expect(stored!.timeline.filter((e) => e.type === "notified")).toEqual([
      expect.objectContaining({
        channel: "email-oncall",
        outcome: "delivered",
        attempts: 2,
        detail: "trigger: published to SNS for oncall@example.com (message fake-1) (2 attempts)",
      }),
    ]);
  });
});

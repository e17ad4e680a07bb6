import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SNSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readServiceSnapshot } from "../../functions/adapters/config-file.js";
import { DynamoIncidentStore } from "../../functions/adapters/dynamodb/incident-store.js";
import { DynamoSmsReplyBook } from "../../functions/integrations/sms/reply-book.js";
import type { EmbeddedDynamo } from "../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../support/dynamo.js";
import { fixture } from "../support/fixtures.js";
import { lambdaContext } from "../support/http-events.js";
import { candidate } from "../support/incidents.js";
import { setLambdaEnvironment } from "../support/lambda-environment.js";
import { fired } from "../support/lifecycle.js";

/**
 * The SMS replies function as Lambda runs it (functions/entry/lambda-runtime.ts
 * smsRepliesLambda) on DynamoDB (dynalite): the reply book and the replay records on the
 * incidents' table, the incident acknowledged by one conditional write. No state machine is
 * configured, so the acknowledgement is stored and nothing is started or stopped.
 */
const ALICE_PHONE = "+447911123456";

let dynamo: EmbeddedDynamo;
let store: DynamoIncidentStore;
let book: DynamoSmsReplyBook;
let handler: (event: SNSEvent, context: typeof lambdaContext) => Promise<{ outcomes: string[] }>;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const client = clientFor(dynamo.endpoint);
  const table = await freshTable(client);
  store = new DynamoIncidentStore(client, table);
  book = new DynamoSmsReplyBook(client, table);
  // tocsin.yaml with Alice's phone, as a deployment that pages her by SMS has it.
  const snapshot = readServiceSnapshot("tocsin.yaml") as {
    config: { users: Record<string, object> };
  };
  snapshot.config.users.alice = { ...snapshot.config.users.alice, phone: ALICE_PHONE };
  const dir = mkdtempSync(join(tmpdir(), "tocsin-sms-replies-"));
  writeFileSync(join(dir, "tocsin.json"), JSON.stringify(snapshot));
  setLambdaEnvironment({
    table,
    endpoints: { DYNAMODB: dynamo.endpoint },
    variables: { TOCSIN_CONFIG: join(dir, "tocsin.json") },
  });
  const { smsRepliesLambda } = await import("../../functions/entry/lambda-runtime.js");
  handler = smsRepliesLambda() as unknown as typeof handler;
}, 30_000);

afterAll(async () => {
  await dynamo?.close();
});

describe("the SMS replies function on Lambda", () => {
  it("a reply of 1 acknowledges the incident last texted to Alice, once; a repeat writes nothing", async () => {
    const incident = candidate("fp-sms-lambda", new Date().toISOString(), { escalation: null });
    await fired(store, incident);
    await book.remember(ALICE_PHONE, incident.id, new Date().toISOString());
    const event = fixture("sns-two-way-sms-reply.json") as unknown as SNSEvent;

    const first = await handler(event, lambdaContext);
    const acknowledged = await store.get(incident.id);
    const again = await handler(event, lambdaContext);

    expect(first.outcomes).toEqual(["acknowledged"]);
    expect(acknowledged).toMatchObject({
      status: "acknowledged",
      acknowledgedBy: "Alice Martin (alice)",
    });
    expect(again.outcomes).toEqual(["replayed"]);
    expect(await store.get(incident.id)).toEqual(acknowledged);
  });
});

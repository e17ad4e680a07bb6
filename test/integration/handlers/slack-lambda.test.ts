import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../../support/dynamo.js";
import { FakeSlack, RESPONSE_URL } from "../../support/fake-slack.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";
import { candidate } from "../../support/incidents.js";
import { setLambdaEnvironment } from "../../support/lambda-environment.js";
import { fired } from "../../support/lifecycle.js";
import { slackClick } from "../../support/slack-click.js";

/**
 * The Slack function as Lambda runs it (functions/entry/lambda-runtime.ts), its AWS services
 * on 127.0.0.1: DynamoDB (dynalite), Secrets Manager and Lambda's Invoke API (small fakes of
 * their JSON wire protocols). A click is answered without a word to Slack; the note goes to
 * Lambda as an asynchronous invocation of the same function, which posts it once.
 */
const SIGNING_SECRET = "lambda-signing-secret";
const FUNCTION_NAME = "tocsin-SlackInteractions-abc123";
const DMITRI = { id: "U0DMITRI1", username: "dmitri.v" };

interface Invocation {
  functionName: string;
  invocationType: string | undefined;
  payload: unknown;
}

/** Listens on 127.0.0.1 with `handle`; answers its URL. */
async function listen(
  handle: (req: IncomingMessage, body: string) => { status: number; body: string },
): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const answer = handle(req, Buffer.concat(chunks).toString("utf8"));
    res.writeHead(answer.status, { "content-type": "application/x-amz-json-1.1" });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let dynamo: EmbeddedDynamo;
let slack: FakeSlack;
let servers: Server[] = [];
const invocations: Invocation[] = [];
let store: DynamoIncidentStore;
let handler: (event: unknown, context: typeof lambdaContext) => Promise<unknown>;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  slack = await FakeSlack.start();
  const client = clientFor(dynamo.endpoint);
  const table = await freshTable(client);
  store = new DynamoIncidentStore(client, table);
  // Secrets Manager's GetSecretValue: every ARN holds the signing secret.
  const secrets = await listen((_, body) => ({
    status: 200,
    body: JSON.stringify({
      ARN: JSON.parse(body).SecretId,
      Name: "SlackSigningSecret",
      SecretString: SIGNING_SECRET,
      VersionId: "v1",
    }),
  }));
  // Lambda's Invoke: an Event invocation is queued (202) and recorded.
  const lambda = await listen((req, body) => {
    const name = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? "")?.[1];
    invocations.push({
      functionName: decodeURIComponent(name ?? ""),
      invocationType: req.headers["x-amz-invocation-type"] as string | undefined,
      payload: JSON.parse(body),
    });
    return { status: 202, body: "" };
  });
  servers = [secrets.server, lambda.server];
  // Only the Slack function's own secret: no webhook or API token.
  setLambdaEnvironment({
    table,
    endpoints: { DYNAMODB: dynamo.endpoint, SECRETS_MANAGER: secrets.url, LAMBDA: lambda.url },
    variables: {
      AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
      SLACK_SIGNING_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:1:secret:signing",
      SLACK_API_URL: slack.apiUrl,
    },
  });
  const { slackInteractionsLambda } = await import("../../../functions/entry/lambda-runtime.js");
  handler = slackInteractionsLambda() as typeof handler;
}, 30_000);

afterAll(async () => {
  await slack?.close();
  for (const server of servers) server.close();
  await dynamo?.close();
});

describe("the Slack function on Lambda", () => {
  it("answers the click at once and hands the note to an asynchronous invocation of itself, which posts it once", async () => {
    // Prepare
    const incident = candidate("fp-lambda-note", new Date().toISOString());
    await fired(store, incident);
    const click = slackClick({
      signingSecret: SIGNING_SECRET,
      actionId: "acknowledge",
      value: incident.id,
      user: DMITRI,
      timestamp: new Date(),
      responseUrl: slack.responseUrl({ user: DMITRI.id, channel: "C024BE91L" }),
    });

    // Act: the click, as API Gateway delivers it.
    const answer = (await handler(
      httpEvent({ routeKey: "POST /slack/interactions", body: click.body, headers: click.headers }),
      lambdaContext,
    )) as { statusCode: number; body: string };

    // Assess: acknowledged, Slack not called; one Event invocation of this very function.
    expect(answer.statusCode).toBe(200);
    const { message } = JSON.parse(answer.body) as { message: string };
    expect(message).toMatch(/^Acknowledged by Dmitri Volkov/);
    expect((await store.get(incident.id))!.status).toBe("acknowledged");
    expect(slack.calls).toEqual([]);
    expect(invocations).toEqual([
      {
        functionName: FUNCTION_NAME,
        invocationType: "Event",
        payload: { tocsin: "slack-note", note: { responseUrl: expect.any(String), text: message } },
      },
    ]);

    // Act: Lambda runs the queued invocation.
    await handler(invocations[0]!.payload, lambdaContext);

    // Assess: the note, once, through the response URL.
    expect(slack.callsTo(RESPONSE_URL)).toHaveLength(1);
    expect(slack.notesTo(DMITRI.id)).toEqual([
      { response_type: "ephemeral", replace_original: false, text: message },
    ]);
  });
});

import { execFile, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_CALL_POLICY, worstCaseCallMs } from "../../../functions/adapters/aws-clients.js";
import { readServiceSnapshot } from "../../../functions/adapters/config-file.js";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import {
  createTableInput,
  INDEX_NAMES,
  TTL_ATTRIBUTE,
} from "../../../functions/adapters/dynamodb/table-schema.js";
import { INGEST_CONCURRENCY } from "../../../functions/app/ingest-alerts.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { type FunctionName, ROUTE_KEYS } from "../../../functions/entry/route-keys.js";
import {
  NOTE_RETRY_POLICY,
  NOTE_TIMEOUT_MS,
} from "../../../functions/integrations/slack/responder.js";
import { PROJECT_ROOT } from "../../../lib/constructs/tocsin-function.js";
import { LOCAL_HANDLER_ARN } from "../../../lib/escalation-definition.js";
import { freshTable, startTestDynamo } from "../../support/dynamo.js";
import { fixture } from "../../support/fixtures.js";
import { httpEvent } from "../../support/http-events.js";
import {
  actionsOf,
  asArray,
  assetDir,
  emailTopicIds,
  environmentOf,
  escalationDefinition,
  escalationFunctionId,
  everyFunctionId,
  functionIds,
  functionServing,
  type Json,
  ofType,
  owedMirrorsSchedule,
  plaintextSecretProblem,
  type Resources,
  readableSecrets,
  resolveText,
  roleStatements,
  roles,
  type Synthesized,
  stateMachineOf,
  statementsOf,
  synthesize,
} from "./template-queries.js";

const SECRET = "AWS::SecretsManager::Secret";
const execFileAsync = promisify(execFile);

// Synthesized once per variant in beforeAll: bundling four functions takes seconds.
/** Bundled: the bundle tests read its assets. */
let plain: Synthesized;
/**
 * With the Grafana HMAC secret and renamed signature headers; not bundled, its template is
 * all the tests read.
 */
let withHmac: Synthesized;

beforeAll(() => {
  plain = synthesize({ grafanaHmac: false, bundle: true });
  withHmac = synthesize({
    grafanaHmac: true,
    bundle: false,
    grafanaSignatureHeader: "X-Webhook-Signature",
    grafanaTimestampHeader: "X-Webhook-Timestamp",
  });
}, 120_000);

afterAll(() => {
  for (const synth of [plain, withHmac]) {
    if (synth) rmSync(synth.outdir, { recursive: true, force: true });
  }
});

describe("HTTP API", () => {
  it("has every route key of ROUTE_KEYS, served by the function named for it", () => {
    const { resources } = plain;
    const served = new Map<string, FunctionName>();
    for (const [name, routeKeys] of Object.entries(ROUTE_KEYS) as [
      FunctionName,
      readonly string[],
    ][]) {
      const ids = new Set(routeKeys.map((key) => functionServing(resources, key)));
      expect(ids.size, `${name} is one function`).toBe(1);
      const [id] = ids;
      expect(served.has(id!), `${id} serves only ${name}`).toBe(false);
      served.set(id!, name);
    }
  });

  it("has no route besides those (the local server serves exactly ROUTE_KEYS too)", () => {
    const declared = Object.values(ROUTE_KEYS).flat().sort();
    const deployed = ofType(plain.resources, "AWS::ApiGatewayV2::Route")
      .map(([, r]) => r.Properties.RouteKey)
      .sort();
    expect(deployed).toEqual(declared);
  });

  it("hands Lambda the payload format 2.0 events the handlers read", () => {
    const integrations = ofType(plain.resources, "AWS::ApiGatewayV2::Integration");
    expect(integrations.length).toBeGreaterThan(0);
    for (const [id, integration] of integrations) {
      expect(integration.Properties, id).toMatchObject({
        IntegrationType: "AWS_PROXY",
        PayloadFormatVersion: "2.0",
      });
    }
  });

  it("deploys automatically to the $default stage with throttling", () => {
    plain.template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 },
    });
  });
});

describe("incident table", () => {
  const tableOf = (resources: Resources) => {
    const tables = ofType(resources, "AWS::DynamoDB::Table");
    expect(tables).toHaveLength(1);
    return tables[0]![1];
  };

  it("has the keys and indexes of table-schema.ts, which the local server also creates", () => {
    const expected = createTableInput("ignored");
    const { Properties } = tableOf(plain.resources);
    expect(Properties.KeySchema).toEqual(expected.KeySchema);
    expect(Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining(expected.AttributeDefinitions!),
    );
    expect(Properties.AttributeDefinitions).toHaveLength(expected.AttributeDefinitions!.length);
    const byName = (a: Json, b: Json) => a.IndexName.localeCompare(b.IndexName);
    expect([...Properties.GlobalSecondaryIndexes].sort(byName)).toEqual(
      [...expected.GlobalSecondaryIndexes!].sort(byName),
    );
  });

  it("stays within DynamoDB's limit of 100 projected attributes over all indexes", () => {
    // Exceeding it passes synth and fails only at deploy; SUMMARY_ATTRIBUTES grows over time.
    const projected = tableOf(plain.resources).Properties.GlobalSecondaryIndexes.flatMap(
      (index: Json) => index.Projection.NonKeyAttributes ?? [],
    );
    expect(projected.length).toBeLessThanOrEqual(100);
  });

  it("is on demand, recoverable to a point in time, and outlives the stack", () => {
    const resource = tableOf(plain.resources);
    expect(resource.Properties.BillingMode).toBe("PAY_PER_REQUEST");
    expect(resource.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: TTL_ATTRIBUTE,
      Enabled: true,
    });
    expect(resource.Properties.PointInTimeRecoverySpecification).toEqual({
      PointInTimeRecoveryEnabled: true,
    });
    expect(resource.Properties.DeletionProtectionEnabled).toBe(true);
    expect(resource.DeletionPolicy).toBe("Retain");
    expect(resource.UpdateReplacePolicy).toBe("Retain");
  });
});

describe("functions", () => {
  it("all run Node.js 22 on arm64 with active tracing and the bundled config", () => {
    const functions = ofType(plain.resources, "AWS::Lambda::Function");
    expect(functions.length).toBeGreaterThan(0);
    for (const [id, fn] of functions) {
      expect(fn.Properties.Runtime, id).toBe("nodejs22.x");
      expect(fn.Properties.Architectures, id).toEqual(["arm64"]);
      expect(fn.Properties.TracingConfig, id).toEqual({ Mode: "Active" });
      expect(fn.Properties.Handler, id).toBe("index.handler");
      const env = environmentOf(plain.resources, id);
      expect(env.TOCSIN_CONFIG, id).toBe("/var/task/tocsin.json");
      // Source maps ship (index.mjs.map) but are not loaded at every cold start.
      expect(env.NODE_OPTIONS, id).toBeUndefined();
      const logGroup = plain.resources[fn.Properties.LoggingConfig.LogGroup.Ref];
      expect(logGroup.Properties.RetentionInDays, id).toBeGreaterThan(0);
    }
  });

  it("have memory and timeouts chosen per function; HTTP ones end before API Gateway's 30 s", () => {
    const sized = Object.fromEntries(
      Object.entries(everyFunctionId(plain)).map(([name, id]) => {
        const { MemorySize, Timeout } = plain.resources[id].Properties;
        return [name, [MemorySize, Timeout]];
      }),
    );
    expect(sized).toEqual({
      alertmanagerWebhook: [1769, 29],
      grafanaWebhook: [1769, 29],
      readApi: [1024, 29],
      slackInteractions: [512, 10],
      pagerDutyWebhook: [512, 10],
      ackLinks: [512, 10],
      escalation: [512, 60],
      owedMirrors: [256, 60],
    });
  });

  it("keep a socket for every alert a delivery writes at once", () => {
    expect(AWS_CALL_POLICY.maxSockets).toBeGreaterThanOrEqual(INGEST_CONCURRENCY);
  });

  it("outlast one AWS SDK call that times out at every attempt, so a hung service answers 503", () => {
    // Each call's worst case (AWS_CALL_POLICY: timeouts per attempt, attempts, backoff) ends
    // inside every function's timeout, with a second left to answer.
    for (const [name, id] of Object.entries(everyFunctionId(plain))) {
      const timeoutMs = plain.resources[id].Properties.Timeout * 1000;
      expect(worstCaseCallMs() + 1_000, name).toBeLessThanOrEqual(timeoutMs);
    }
  });

  it("get every variable lambda-runtime.ts reads, as references, not values", () => {
    const { resources } = plain;
    const ids = everyFunctionId(plain);
    const typeOf = (id: string, name: string) =>
      resources[environmentOf(resources, id)[name]?.Ref]?.Type;
    for (const [name, id] of Object.entries(ids)) {
      expect(typeOf(id, "TABLE_NAME"), name).toBe("AWS::DynamoDB::Table");
    }
    for (const id of [ids.alertmanagerWebhook, ids.grafanaWebhook])
      expect(typeOf(id, "WEBHOOK_TOKEN_SECRET_ARN"), id).toBe(SECRET);
    expect(typeOf(ids.readApi, "API_TOKEN_SECRET_ARN")).toBe(SECRET);
    // Optional in lambda-runtime.ts, so nothing fails without them but the escalation itself:
    // no STATE_MACHINE_ARN, no escalation starts; no secret ARN, no Slack or PagerDuty.
    const [machineId] = stateMachineOf(resources);
    for (const id of [ids.alertmanagerWebhook, ids.grafanaWebhook]) {
      expect(environmentOf(resources, id).STATE_MACHINE_ARN, id).toEqual({ Ref: machineId });
    }
    expect(environmentOf(resources, ids.readApi).STATE_MACHINE_ARN).toBeUndefined();
    expect(typeOf(ids.escalation, "SLACK_BOT_TOKEN_SECRET_ARN")).toBe(SECRET);
    expect(typeOf(ids.escalation, "PAGERDUTY_ROUTING_KEY_SECRET_ARN")).toBe(SECRET);
  });

  it("never carry a token or secret value in their environment", () => {
    for (const synth of [plain, withHmac]) {
      for (const [id] of ofType(synth.resources, "AWS::Lambda::Function")) {
        for (const [name, value] of Object.entries(environmentOf(synth.resources, id))) {
          expect(plaintextSecretProblem(name, value, synth.resources), id).toBeUndefined();
        }
      }
    }
  });

  describe("the no-plaintext-secret rule those are held to", () => {
    const resources: Resources = {
      SlackBotToken: { Type: SECRET },
      Incidents: { Type: "AWS::DynamoDB::Table" },
    };
    const secretRef = { Ref: "SlackBotToken" };
    // What CDK writes for `secret.secretValue`: CloudFormation puts the value in its place.
    const dynamicReference = {
      "Fn::Join": ["", ["{{resolve:secretsmanager:", secretRef, ":SecretString:::}}"]],
    };

    it.each([
      ["TOCSIN_WEBHOOK_TOKEN", "3f9c0d6a51e24b7b"],
      ["TOCSIN_API_TOKEN", "3f9c0d6a51e24b7b"],
      ["TOCSIN_GRAFANA_HMAC_SECRET", "3f9c0d6a51e24b7b"],
      ["SLACK_BOT_TOKEN", "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"],
      ["SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5"],
      ["PAGERDUTY_ROUTING_KEY", "R0UT1NGK3YR0UT1NGK3YR0UT1NGK3Y00"],
      // Local redirections: in Lambda they would send the token to another server.
      ["SLACK_API_URL", "http://127.0.0.1:9000/api/"],
      ["PAGERDUTY_SERVER", "127.0.0.1:9001"],
      ["DATABASE_PASSWORD", "hunter2"],
      ["SLACK_BOT_TOKEN", secretRef],
      ["SLACK_BOT_TOKEN_SECRET_ARN", "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"],
      ["SLACK_BOT_TOKEN_SECRET_ARN", dynamicReference],
      ["PAGERDUTY_ROUTING_KEY_SECRET_ARN", { Ref: "Incidents" }],
      ["WEBHOOK_TOKEN_SECRET_ARN", { "Fn::GetAtt": ["SlackBotToken", "SecretString"] }],
    ])("refuses %s = %j", (name, value) => {
      expect(plaintextSecretProblem(name, value, resources)).toBeDefined();
    });

    it.each([
      ["SLACK_BOT_TOKEN_SECRET_ARN", secretRef],
      ["PAGERDUTY_ROUTING_KEY_SECRET_ARN", secretRef],
      ["GRAFANA_HMAC_SECRET_ARN", secretRef],
      ["TABLE_NAME", { Ref: "Incidents" }],
      ["TOCSIN_CONFIG", "/var/task/tocsin.json"],
      ["EMAIL_TOPICS", "{}"],
    ])("allows %s = %j", (name, value) => {
      expect(plaintextSecretProblem(name, value, resources)).toBeUndefined();
    });
  });

  it("secrets are generated by Secrets Manager, never written into the template", () => {
    for (const synth of [plain, withHmac]) {
      for (const [id, secret] of ofType(synth.resources, "AWS::SecretsManager::Secret")) {
        expect(secret.Properties.SecretString, id).toBeUndefined();
        expect(secret.Properties.GenerateSecretString, id).toMatchObject({
          ExcludePunctuation: true,
        });
      }
    }
  });
});

describe("least privilege", () => {
  const WRITES = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:TransactWriteItems",
    "dynamodb:*",
  ];

  it("the read API can only read the table", () => {
    const statements = statementsOf(plain.resources, functionIds(plain.resources).readApi);
    const actions = actionsOf(statements, "dynamodb");
    expect(actions).toEqual(["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"]);
    for (const write of WRITES) expect(actions).not.toContain(write);
  });

  it("the webhooks can do exactly what ingest does: no delete, no scan", () => {
    const ids = functionIds(plain.resources);
    for (const id of [ids.alertmanagerWebhook, ids.grafanaWebhook]) {
      expect(actionsOf(statementsOf(plain.resources, id), "dynamodb")).toEqual([
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
      ]);
    }
  });

  it("the escalation function reads the incident, claims steps, records outcomes: no more", () => {
    const statements = statementsOf(plain.resources, escalationFunctionId(plain));
    expect(actionsOf(statements, "dynamodb")).toEqual([
      "dynamodb:BatchGetItem",
      "dynamodb:GetItem",
      "dynamodb:UpdateItem",
    ]);
  });

  it("the Slack function changes incidents by UpdateItem only, and may put replay records alone", () => {
    const statements = statementsOf(
      plain.resources,
      functionIds(plain.resources).slackInteractions,
    );
    expect(actionsOf(statements, "dynamodb")).toEqual([
      "dynamodb:BatchGetItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
    ]);
    const puts = statements.filter((s) => asArray(s.Action).includes("dynamodb:PutItem"));
    expect(puts).toHaveLength(1);
    expect(puts[0]!.Condition).toEqual({
      "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["SEEN#*"] },
    });
  });

  it("the Slack function may invoke itself alone, asynchronously, with no retry of a failed note", () => {
    const { resources } = plain;
    const id = functionIds(resources).slackInteractions;
    const statements = statementsOf(resources, id);
    expect(actionsOf(statements, "lambda")).toEqual(["lambda:InvokeFunction"]);
    const invokes = statements.filter((s) => asArray(s.Action).includes("lambda:InvokeFunction"));
    expect(invokes.flatMap((s) => asArray(s.Resource))).toEqual([{ "Fn::GetAtt": [id, "Arn"] }]);
    for (const other of Object.values(everyFunctionId(plain)).filter((f) => f !== id)) {
      expect(actionsOf(statementsOf(resources, other), "lambda"), other).toEqual([]);
    }
    // A note's retries end inside the function's timeout.
    const timeoutMs = resources[id].Properties.Timeout * 1000;
    expect(NOTE_RETRY_POLICY.maxTotalMs + NOTE_TIMEOUT_MS).toBeLessThan(timeoutMs);
    // The other asynchronous invocation is the owed-mirrors schedule's (operations.test.ts).
    const [config, ...more] = ofType(resources, "AWS::Lambda::EventInvokeConfig").filter(
      ([, c]) => c.Properties.FunctionName.Ref === id,
    );
    expect(more).toEqual([]);
    expect(config![1].Properties).toMatchObject({
      FunctionName: { Ref: id },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 900,
    });
  });

  it("the escalation function may publish only to the email topics, and start nothing", () => {
    const { resources } = plain;
    const statements = statementsOf(resources, escalationFunctionId(plain));
    expect(actionsOf(statements, "sns")).toEqual(["sns:Publish"]);
    // Not the operators' topic: alarms reach it, no function does.
    const topics = emailTopicIds(plain).map((id) => `<${id}>`);
    expect(topics.length).toBeGreaterThan(0);
    const published = statements
      .filter((s) => actionsOf([s], "sns").length > 0)
      .flatMap((s) => asArray(s.Resource).map(resolveText));
    expect(published.sort()).toEqual(topics.sort());
    const services = new Set(
      statements.flatMap((s) => asArray<string>(s.Action).map((a) => a.split(":")[0])),
    );
    expect([...services].sort()).toEqual(["dynamodb", "logs", "secretsmanager", "sns", "xray"]);
  });

  it("the webhooks may start only the escalation, stop only its executions; no one else", () => {
    const { resources } = plain;
    const [machineId] = stateMachineOf(resources);
    const ids = everyFunctionId(plain);
    for (const id of [ids.alertmanagerWebhook, ids.grafanaWebhook]) {
      const granted = statementsOf(resources, id)
        .filter((s) => actionsOf([s], "states").length > 0)
        .map((s) => ({
          actions: asArray<string>(s.Action).sort(),
          resources: asArray(s.Resource).map(resolveText),
        }))
        .sort((a, b) => a.actions.join().localeCompare(b.actions.join()));
      expect(granted, id).toEqual([
        // Ref of a state machine is its ARN.
        { actions: ["states:StartExecution"], resources: [`<${machineId}>`] },
        {
          actions: ["states:StopExecution"],
          resources: [`arn:aws:states:eu-west-1:123456789012:execution:<${machineId}.Name>:*`],
        },
      ]);
    }
    for (const id of [ids.readApi, ids.escalation]) {
      expect(actionsOf(statementsOf(resources, id), "states"), id).toEqual([]);
    }
  });

  it("the owed-mirrors sweep runs every minute, queries the table and starts executions: no more", () => {
    const { resources } = plain;
    const [machineId] = stateMachineOf(resources);
    const { rule, functionId } = owedMirrorsSchedule(plain);
    expect(rule.Properties).toMatchObject({
      ScheduleExpression: "rate(1 minute)",
      State: "ENABLED",
    });
    const statements = statementsOf(resources, functionId);
    expect(actionsOf(statements, "dynamodb")).toEqual(["dynamodb:Query"]);
    expect(
      statements
        .filter((s) => actionsOf([s], "states").length > 0)
        .map((s) => ({
          actions: asArray(s.Action),
          resources: asArray(s.Resource).map(resolveText),
        })),
    ).toEqual([{ actions: ["states:StartExecution"], resources: [`<${machineId}>`] }]);
    const services = new Set(
      statements.flatMap((s) => asArray<string>(s.Action).map((a) => a.split(":")[0])),
    );
    expect([...services].sort()).toEqual(["dynamodb", "logs", "states", "xray"]);
    expect(environmentOf(resources, functionId).STATE_MACHINE_ARN).toEqual({ Ref: machineId });
  });

  it("the state machine may invoke the escalation function and nothing else", () => {
    const { resources } = plain;
    const [, machine] = stateMachineOf(resources);
    const escalation = escalationFunctionId(plain);
    const granted = roleStatements(resources, machine.Properties.RoleArn["Fn::GetAtt"][0])
      // Tracing and log delivery, on `*`: the test below holds those to their actions.
      .filter((s) => !asArray(s.Resource).includes("*"))
      .map((s) => ({
        actions: asArray<string>(s.Action).sort(),
        resources: asArray(s.Resource).map(resolveText),
      }));
    expect(granted).toEqual([
      {
        actions: ["lambda:InvokeFunction"],
        // The function and its versions or aliases: still only the escalation function.
        resources: [`<${escalation}.Arn>`, `<${escalation}.Arn>:*`],
      },
    ]);
  });

  it("table access names the table and each of its indexes, never `*`", () => {
    const tableId = ofType(plain.resources, "AWS::DynamoDB::Table")[0]![0];
    const tableArn = { "Fn::GetAtt": [tableId, "Arn"] };
    const indexArns = INDEX_NAMES.map((name) => ({
      "Fn::Join": ["", [tableArn, `/index/${name}`]],
    }));
    for (const id of Object.values(everyFunctionId(plain))) {
      const dynamo = statementsOf(plain.resources, id).filter(
        (s) => actionsOf([s], "dynamodb").length > 0,
      );
      expect(dynamo.length, id).toBeGreaterThan(0);
      for (const statement of dynamo) {
        // Queries on the list paths go to the GSIs: without the index ARN they are denied.
        expect(asArray(statement.Resource), id).toEqual([tableArn, ...indexArns]);
      }
    }
  });

  it("no role has an AWS managed policy; each function writes only to its own log group", () => {
    for (const [id, role] of ofType(plain.resources, "AWS::IAM::Role")) {
      expect(role.Properties.ManagedPolicyArns ?? [], id).toEqual([]);
    }
    for (const id of Object.values(everyFunctionId(plain))) {
      const logGroup = plain.resources[id].Properties.LoggingConfig.LogGroup.Ref;
      const logs = statementsOf(plain.resources, id).filter((s) => actionsOf([s], "logs").length);
      expect(
        logs.map((s) => ({ actions: actionsOf([s], "logs"), resources: asArray(s.Resource) })),
        id,
      ).toEqual([
        {
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [{ "Fn::GetAtt": [logGroup, "Arn"] }],
        },
      ]);
    }
  });

  it("grants `*` only to actions that accept nothing else: tracing and log delivery", () => {
    // What the IAM5 acknowledgments of Resource::* rest on (lib/nag.ts, escalation.ts).
    const xray = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"];
    const sampling = ["xray:GetSamplingRules", "xray:GetSamplingTargets"];
    const logDelivery = [
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
    ];
    const [, machine] = stateMachineOf(plain.resources);
    const machineRole = machine.Properties.RoleArn["Fn::GetAtt"][0];
    for (const [id, statements] of roles(plain.resources)) {
      const onAnything = statements
        .filter((s) => asArray(s.Resource).includes("*"))
        .flatMap((s) => asArray<string>(s.Action))
        .sort();
      const allowed =
        id === machineRole ? [...logDelivery, ...sampling, ...xray].sort() : [...xray];
      expect(onAnything, id).toEqual(allowed);
    }
  });

  it("each function reads only its own secrets", () => {
    const secretRef = (synth: Synthesized, id: string, variable: string) =>
      environmentOf(synth.resources, id)[variable].Ref;
    for (const synth of [plain, withHmac]) {
      const ids = everyFunctionId(synth);
      const webhook = secretRef(synth, ids.alertmanagerWebhook, "WEBHOOK_TOKEN_SECRET_ARN");
      const api = secretRef(synth, ids.readApi, "API_TOKEN_SECRET_ARN");
      const slack = secretRef(synth, ids.escalation, "SLACK_BOT_TOKEN_SECRET_ARN");
      const pagerDuty = secretRef(synth, ids.escalation, "PAGERDUTY_ROUTING_KEY_SECRET_ARN");
      const pagerDutyApi = secretRef(synth, ids.escalation, "PAGERDUTY_API_TOKEN_SECRET_ARN");
      const pagerDutyHook = secretRef(synth, ids.pagerDutyWebhook, "PAGERDUTY_WEBHOOK_SECRET_ARN");
      const linkKey = secretRef(synth, ids.ackLinks, "ACK_LINK_KEY_SECRET_ARN");
      expect(
        new Set([webhook, api, slack, pagerDuty, pagerDutyApi, pagerDutyHook, linkKey]).size,
      ).toBe(7);
      // Exact lists: the HTTP functions never read the notifiers' credentials, nor the
      // escalation function the tokens that guard the HTTP API. The link key: the escalation
      // signs links, the links function verifies them, nothing else reads it.
      expect(readableSecrets(synth.resources, ids.escalation)).toEqual(
        [slack, pagerDuty, pagerDutyApi, linkKey].sort(),
      );
      expect(readableSecrets(synth.resources, ids.ackLinks)).toEqual([linkKey]);
      expect(environmentOf(synth.resources, ids.escalation).ACK_LINK_KEY_SECRET_ARN.Ref).toBe(
        linkKey,
      );
      // PagerDuty's webhooks need their signing secrets alone, never the REST token.
      expect(readableSecrets(synth.resources, ids.pagerDutyWebhook)).toEqual([pagerDutyHook]);
      expect(readableSecrets(synth.resources, ids.alertmanagerWebhook)).toEqual([webhook]);
      expect(readableSecrets(synth.resources, ids.readApi)).toEqual([api]);
      // Clicks need the signing secret alone: notes go to a response_url, which takes no token.
      const signing = secretRef(synth, ids.slackInteractions, "SLACK_SIGNING_SECRET_ARN");
      expect(readableSecrets(synth.resources, ids.slackInteractions)).toEqual([signing]);
      expect(
        environmentOf(synth.resources, ids.slackInteractions).SLACK_BOT_TOKEN_SECRET_ARN,
      ).toBeUndefined();
      const hmac = environmentOf(synth.resources, ids.grafanaWebhook).GRAFANA_HMAC_SECRET_ARN;
      expect(readableSecrets(synth.resources, ids.grafanaWebhook)).toEqual(
        [webhook, ...(hmac ? [hmac.Ref] : [])].sort(),
      );
      // Told exactly the secrets it may read: each ARN in its environment is one it reads,
      // and each it reads is in its environment (no function is told of another's token).
      for (const [name, id] of Object.entries(ids)) {
        const told = Object.entries(environmentOf(synth.resources, id))
          .filter(([variable]) => variable.endsWith("_SECRET_ARN"))
          .map(([, value]) => (value as { Ref: string }).Ref);
        expect(told.sort(), name).toEqual(readableSecrets(synth.resources, id));
      }
      expect(Object.keys(environmentOf(synth.resources, ids.slackInteractions))).not.toContain(
        "WEBHOOK_TOKEN_SECRET_ARN",
      );
      const { owedMirrors, ...readers } = ids;
      for (const id of Object.values(readers)) {
        expect(actionsOf(statementsOf(synth.resources, id), "secretsmanager"), id).toEqual([
          "secretsmanager:GetSecretValue",
        ]);
      }
      expect(actionsOf(statementsOf(synth.resources, owedMirrors), "secretsmanager")).toEqual([]);
    }
  });
});

describe("Grafana HMAC secret", () => {
  it("exists only when asked for, and only the grafana function is told about it", () => {
    for (const id of Object.values(everyFunctionId(plain))) {
      expect(environmentOf(plain.resources, id).GRAFANA_HMAC_SECRET_ARN).toBeUndefined();
    }
    const ids = everyFunctionId(withHmac);
    const hmac = environmentOf(withHmac.resources, ids.grafanaWebhook).GRAFANA_HMAC_SECRET_ARN;
    expect(withHmac.resources[hmac.Ref].Type).toBe(SECRET);
    const secrets = (synth: Synthesized) => ofType(synth.resources, SECRET).map(([id]) => id);
    expect(secrets(withHmac).sort()).toEqual([...secrets(plain), hmac.Ref].sort());
    for (const id of [ids.alertmanagerWebhook, ids.readApi, ids.escalation]) {
      expect(environmentOf(withHmac.resources, id).GRAFANA_HMAC_SECRET_ARN, id).toBeUndefined();
    }
    withHmac.template.hasOutput("GrafanaHmacSecretArn", { Value: { Ref: hmac.Ref } });
  });
});

describe("Grafana signature headers", () => {
  const HEADER_VARIABLES = ["TOCSIN_GRAFANA_SIGNATURE_HEADER", "TOCSIN_GRAFANA_TIMESTAMP_HEADER"];

  it("reach the grafana function, as the variables the local server reads, and no other", () => {
    const ids = everyFunctionId(withHmac);
    expect(environmentOf(withHmac.resources, ids.grafanaWebhook)).toMatchObject({
      TOCSIN_GRAFANA_SIGNATURE_HEADER: "X-Webhook-Signature",
      TOCSIN_GRAFANA_TIMESTAMP_HEADER: "X-Webhook-Timestamp",
    });
    for (const id of [ids.alertmanagerWebhook, ids.readApi, ids.escalation]) {
      for (const name of HEADER_VARIABLES)
        expect(environmentOf(withHmac.resources, id)[name], id).toBeUndefined();
    }
    // Unset: the function keeps Grafana's defaults.
    for (const name of HEADER_VARIABLES)
      expect(
        environmentOf(plain.resources, everyFunctionId(plain).grafanaWebhook)[name],
      ).toBeUndefined();
  });

  it("that are not header names fail the synth, naming the setting", () => {
    expect(() =>
      synthesize({ grafanaHmac: true, bundle: false, grafanaTimestampHeader: "X Timestamp" }),
    ).toThrow(/TOCSIN_GRAFANA_TIMESTAMP_HEADER must be an HTTP header name/);
  });
});

describe("outputs", () => {
  it("give the URL, the table and the secrets' ARNs, never their values", () => {
    const { template, resources } = plain;
    const outputs = template.toJSON().Outputs;
    expect(JSON.stringify(outputs.ApiUrl.Value)).toContain("execute-api");
    expect(resources[outputs.TableName.Value.Ref].Type).toBe("AWS::DynamoDB::Table");
    for (const name of [
      "WebhookTokenSecretArn",
      "ApiTokenSecretArn",
      "SlackBotTokenSecretArn",
      "PagerDutyRoutingKeySecretArn",
    ]) {
      // Ref of a secret is its ARN; Fn::GetAtt or a dynamic reference could be the value.
      expect(Object.keys(outputs[name].Value), name).toEqual(["Ref"]);
      expect(resources[outputs[name].Value.Ref].Type).toBe(SECRET);
    }
    expect(JSON.stringify(outputs)).not.toContain("resolve:secretsmanager");
  });
});

describe("escalation", () => {
  it("is a Standard workflow with tracing", () => {
    // Express executions end after five minutes; the levels wait up to an hour, and an
    // execution named after its incident makes a retried start harmless only in Standard.
    const [, machine] = stateMachineOf(plain.resources);
    expect(machine.Properties.StateMachineType).toBe("STANDARD");
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  it("retries every Task; what the retries leave is recorded, then tried again, stopped or failed, never silently", () => {
    const { StartAt, States } = escalationDefinition(plain);
    const tasks = Object.entries(States as Record<string, Json>).filter(
      ([, state]) => state.Type === "Task",
    );
    expect(tasks.length).toBeGreaterThan(0);
    const record = tasks.find(([, task]) => task.Parameters.action === "failure")!;
    for (const [name, task] of tasks) {
      const retries: Json[] = task.Retry ?? [];
      const catches: Json[] = task.Catch ?? [];
      expect(retries, `${name} retries`).not.toEqual([]);
      // MaxAttempts 0 never retries; ASL's default is 3.
      for (const retry of retries) expect(retry.MaxAttempts ?? 3, name).toBeGreaterThan(0);
      expect(
        catches.flatMap((c) => c.ErrorEquals),
        `${name} catches`,
      ).toContain("States.ALL");
      for (const caught of catches) {
        // A step's error is recorded first; the record's own error fails the execution.
        const next = name === record[0] ? "Fail" : "Task";
        expect(States[caught.Next].Type, `${name} → ${caught.Next}`).toBe(next);
        if (next === "Task") expect(caught.Next).toBe(record[0]);
      }
    }
    // What the record answers ($.retry.outcome): wait, then start over; stop; or fail.
    const [, recorded] = record;
    expect(recorded.ResultPath).toBe("$.retry");
    expect(recorded.Parameters["state.$"]).toBe("$");
    const choice = States[recorded.Next];
    const branches = Object.fromEntries(
      choice.Choices.map((c: Json) => [c.StringEquals, States[c.Next]]),
    );
    expect(choice.Choices.map((c: Json) => c.Variable)).toEqual([
      "$.retry.outcome",
      "$.retry.outcome",
    ]);
    expect(branches.again).toMatchObject({
      Type: "Wait",
      TimestampPath: "$.retry.at",
      Next: StartAt,
    });
    expect(branches.stopped.Type).toBe("Succeed");
    expect(States[choice.Default].Type).toBe("Fail");
  });

  it("runs on AWS the definition the local engine runs (functions/escalation/escalation.asl.json)", () => {
    const escalation = escalationFunctionId(plain);
    const deployed = escalationDefinition(plain, (id) => {
      if (id !== escalation) throw new Error(`the definition references ${id}`);
      return LOCAL_HANDLER_ARN;
    });
    const local = JSON.parse(
      readFileSync(join(PROJECT_ROOT, "functions/escalation/escalation.asl.json"), "utf8"),
    );
    expect(deployed, "run `npm run definition` and review the diff").toEqual(local);
  });

  it("has a function of its own that serves no HTTP route", () => {
    const { resources } = plain;
    const escalation = escalationFunctionId(plain);
    expect(Object.values(functionIds(resources))).not.toContain(escalation);
    const mentions = (type: string) =>
      ofType(resources, type)
        .filter(([, resource]) => JSON.stringify(resource.Properties).includes(`"${escalation}"`))
        .map(([id]) => id);
    expect(mentions("AWS::ApiGatewayV2::Integration")).toEqual([]);
    // The state machine invokes it through its role: no resource policy lets anyone else.
    expect(mentions("AWS::Lambda::Permission")).toEqual([]);
  });

  it("has one SNS topic per email channel of tocsin.yaml, and EMAIL_TOPICS maps each", () => {
    const { resources } = plain;
    const config = parseConfig(readFileSync(join(PROJECT_ROOT, "tocsin.yaml"), "utf8"));
    const addresses = Object.values(config.channels)
      .flatMap((channel) => (channel.type === "email" ? [channel.address] : []))
      .sort();
    expect(addresses.length).toBeGreaterThan(0);
    const subscriptions = ofType(resources, "AWS::SNS::Subscription").map(([, s]) => s.Properties);
    for (const subscription of subscriptions) expect(subscription.Protocol).toBe("email");
    const topicOf = Object.fromEntries(subscriptions.map((s) => [s.Endpoint, s.TopicArn.Ref]));
    expect(subscriptions).toHaveLength(addresses.length);
    expect(Object.keys(topicOf).sort()).toEqual(addresses);
    // As many topics as addresses, each subscribed by one: one topic per address.
    const topics = emailTopicIds(plain);
    expect(Object.values(topicOf).sort()).toEqual(topics.sort());

    const env = environmentOf(resources, escalationFunctionId(plain));
    expect(JSON.parse(resolveText(env.EMAIL_TOPICS))).toEqual(
      // Ref of a topic is its ARN.
      Object.fromEntries(addresses.map((address) => [address, `<${topicOf[address]}>`])),
    );
  });
});

describe("bundles", () => {
  it("carry tocsin.yaml and every runbook as one JSON snapshot beside index.mjs, no YAML parser, Lambda's credential sources only", () => {
    const expected = readServiceSnapshot(join(PROJECT_ROOT, "tocsin.yaml"));
    const runbooks = readdirSync(join(PROJECT_ROOT, "runbooks"))
      .filter((file) => file.endsWith(".md") && file !== "README.md")
      .sort();
    expect(expected.runbooks.map((runbook) => runbook.file)).toEqual(runbooks);
    expect(runbooks.length).toBeGreaterThan(10);
    for (const id of Object.values(everyFunctionId(plain))) {
      const dir = assetDir(plain, id);
      expect(readdirSync(dir).sort(), id).toEqual(["index.mjs", "index.mjs.map", "tocsin.json"]);
      expect(JSON.parse(readFileSync(join(dir, "tocsin.json"), "utf8")), id).toEqual(expected);
      const code = readFileSync(join(dir, "index.mjs"), "utf8");
      // The snapshot is what spares the bundle a YAML parser: yaml's own error class.
      expect(code, id).not.toContain("YAMLParseError");
      // The SDK's credential chain is Lambda's two sources (functions/adapters/lambda-credentials.ts):
      // none of the profile, process, SSO or web-identity providers is bundled.
      for (const provider of ["credential_process", "sso_start_url", "AWS_WEB_IDENTITY_TOKEN_FILE"])
        expect(code, `${id} bundles ${provider}`).not.toContain(provider);
      expect(code, id).toContain("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    }
  });

  it("load as ESM on Node (CommonJS dependencies included) and answer what needs no AWS", () => {
    const script = `
      const { pathToFileURL } = await import("node:url");
      const results = {};
      for (const [name, file] of Object.entries(JSON.parse(process.env.BUNDLES))) {
        const { handler } = await import(pathToFileURL(file).href);
        results[name] = typeof handler;
      }
      const { handler } = await import(pathToFileURL(JSON.parse(process.env.BUNDLES).readApi).href);
      results.health = await handler(JSON.parse(process.env.EVENT), {});
      // A Task input the state machine never sends: refused before any AWS call.
      const escalation = await import(pathToFileURL(JSON.parse(process.env.BUNDLES).escalation).href);
      results.unknownAction = await escalation
        .handler({ action: "page everyone", incidentId: "0c1d" })
        .then(() => "accepted", (error) => error.name);
      console.log(JSON.stringify(results));
    `;
    const ids = everyFunctionId(plain);
    const bundles = Object.fromEntries(
      Object.entries(ids).map(([name, id]) => [name, join(assetDir(plain, id), "index.mjs")]),
    );
    // --input-type=module: in a CommonJS -e script `require` is a global, which would hide
    // a bundle that lacks its createRequire banner.
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 30_000,
      env: {
        PATH: process.env.PATH,
        BUNDLES: JSON.stringify(bundles),
        EVENT: JSON.stringify(httpEvent({ routeKey: "GET /healthz" })),
        // What the stack sets, with the config taken from the bundle instead of /var/task.
        TOCSIN_CONFIG: join(assetDir(plain, ids.readApi), "tocsin.json"),
        TABLE_NAME: "incidents",
        WEBHOOK_TOKEN_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:w",
        API_TOKEN_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a",
        STATE_MACHINE_ARN: "arn:aws:states:eu-west-1:123456789012:stateMachine:escalation",
        EMAIL_TOPICS: JSON.stringify({
          "oncall@example.com": "arn:aws:sns:eu-west-1:123456789012:oncall",
        }),
        // SLACK_BOT_TOKEN_SECRET_ARN and PAGERDUTY_ROUTING_KEY_SECRET_ARN stay unset: the
        // escalation bundle reads them from Secrets Manager as it loads (a top-level await).
        AWS_REGION: "eu-west-1",
        // Node 20 is this machine's, not Lambda's: keep the SDK's warning out of stderr.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const output = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    expect(output).toMatchObject({
      alertmanagerWebhook: "function",
      grafanaWebhook: "function",
      readApi: "function",
      escalation: "function",
      health: { statusCode: 200 },
      unknownAction: "InvalidInputError",
    });
    expect(JSON.parse(output.health.body)).toEqual({ status: "ok" });
  });

  it("run as on Lambda: the webhook bundle stores a delivery, signing with the role's environment credentials, traced to X-Ray", async () => {
    const dynamo = await startTestDynamo();
    const secrets = await fakeSecretsManager({ [WEBHOOK_SECRET_ARN]: "bundle-token" });
    const daemon = await fakeXRayDaemon();
    try {
      const table = await freshTable(dynamo.client);
      const dir = assetDir(plain, everyFunctionId(plain).alertmanagerWebhook);
      const event = httpEvent({
        routeKey: "POST /webhooks/alertmanager",
        headers: { authorization: "Bearer bundle-token", "content-type": "application/json" },
        body: JSON.stringify(fixture("alertmanager-0.25-firing.json")),
      });
      const script = `
        const { handler } = await import(${JSON.stringify(pathToFileURL(join(dir, "index.mjs")).href)});
        console.log(JSON.stringify(await handler(JSON.parse(process.env.EVENT), {})));
      `;
      // Asynchronous: dynalite and the fake answer from this process's event loop.
      const { stdout, stderr } = await execFileAsync(
        process.execPath,
        ["--input-type=module", "-e", script],
        {
          timeout: 30_000,
          env: {
            ...lambdaEnvironment(dir, { secrets, daemon }),
            _X_AMZN_TRACE_ID: `Root=${TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1`,
            EVENT: JSON.stringify(event),
            AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
            TABLE_NAME: table,
            WEBHOOK_TOKEN_SECRET_ARN: WEBHOOK_SECRET_ARN,
            API_TOKEN_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a",
          },
        },
      );
      const response = JSON.parse(stdout.trim().split("\n").at(-1)!);
      expect(response.statusCode, stderr).toBe(202);
      const [opened] = JSON.parse(response.body).incidents;
      const stored = await new DynamoIncidentStore(dynamo.client, table).get(opened.id);
      expect(stored).toMatchObject({ id: opened.id, status: "triggered", source: "alertmanager" });
      expect(secrets.requests).toHaveLength(1);
      expect(secrets.requests[0]).toMatchObject({
        target: "secretsmanager.GetSecretValue",
        secretId: WEBHOOK_SECRET_ARN,
        token: "bundle-session-token",
      });
      expect(secrets.requests[0]!.authorization).toContain("Credential=ASIABUNDLETEST/");
      // Traced into Lambda's segment: the invocation (annotated), and each AWS call in it.
      const invocation = daemon.segments.find((segment) => segment.name === "## index.handler");
      expect(invocation).toMatchObject({
        trace_id: TRACE_ROOT,
        parent_id: "53995c3f42cd8ad8",
        annotations: {
          ColdStart: true,
          Service: "tocsin",
          route: "POST /webhooks/alertmanager",
          status: 202,
        },
      });
      const calls = daemon.segments
        .filter((segment) => segment.parent_id === invocation!.id)
        .map((segment) => `${segment.name} ${segment.aws?.operation}`);
      expect(calls).toContain("SecretsManager GetSecretValue");
      expect(calls.filter((call) => call.startsWith("DynamoDB "))).toEqual([
        "DynamoDB UpdateItem",
        "DynamoDB PutItem",
        "DynamoDB UpdateItem",
      ]);
      // No payload, response or secret in a trace.
      const traces = JSON.stringify(daemon.segments);
      expect(traces).not.toContain("bundle-token");
      expect(traces).not.toContain("alertname");
    } finally {
      daemon.close();
      await secrets.close();
      await dynamo.close();
    }
  });

  it("run as on Lambda: the escalation bundle reads its Slack and PagerDuty secrets as it starts, without X-Ray errors", async () => {
    const slackArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack";
    const pagerDutyArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pagerduty";
    const secrets = await fakeSecretsManager({
      [slackArn]: "xoxb-1-2-x",
      [pagerDutyArn]: "pd-key",
    });
    const daemon = await fakeXRayDaemon();
    try {
      const dir = assetDir(plain, everyFunctionId(plain).escalation);
      const url = JSON.stringify(pathToFileURL(join(dir, "index.mjs")).href);
      const { stdout, stderr } = await execFileAsync(
        process.execPath,
        ["--input-type=module", "-e", `console.log(typeof (await import(${url})).handler);`],
        {
          timeout: 30_000,
          env: {
            ...lambdaEnvironment(dir, { secrets, daemon }),
            TABLE_NAME: "incidents",
            SLACK_BOT_TOKEN_SECRET_ARN: slackArn,
            PAGERDUTY_ROUTING_KEY_SECRET_ARN: pagerDutyArn,
          },
        },
      );
      expect(stdout.trim()).toBe("function");
      // Read before any invocation, so outside any trace: no "Missing AWS Lambda trace data".
      expect(stderr).toBe("");
      expect(secrets.requests.map((request) => request.secretId).sort()).toEqual(
        [pagerDutyArn, slackArn].sort(),
      );
    } finally {
      daemon.close();
      await secrets.close();
    }
  });
});

const WEBHOOK_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhook";

/**
 * What Lambda gives a function's process, for the bundle in `dir`: the role's credentials
 * (no profile, SSO or IMDS exists here), tracing on, and the fakes' addresses for Secrets
 * Manager and the X-Ray daemon. Not the trace id: Lambda sets it per invocation, not at init.
 */
function lambdaEnvironment(
  dir: string,
  fakes: { secrets: { url: string }; daemon: { port: number } },
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "ASIABUNDLETEST",
    AWS_SECRET_ACCESS_KEY: "bundle-secret-key",
    AWS_SESSION_TOKEN: "bundle-session-token",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: fakes.secrets.url,
    TOCSIN_CONFIG: join(dir, "tocsin.json"),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    _HANDLER: "index.handler",
    LAMBDA_TASK_ROOT: dir,
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${fakes.daemon.port}`,
  };
}
const TRACE_ROOT = "1-5759e988-bd862e3fe1be46a994272793";

/** The X-Ray daemon's UDP port: each datagram is a JSON header line and a (sub)segment. */
async function fakeXRayDaemon() {
  const socket = createSocket("udp4");
  const segments: Json[] = [];
  socket.on("message", (message) => {
    const [, body] = message.toString("utf8").split("\n", 2);
    if (body) segments.push(JSON.parse(body));
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { port: socket.address().port, segments, close: () => socket.close() };
}

/** Secrets Manager's GetSecretValue (JSON 1.1 protocol) on 127.0.0.1, recording requests. */
async function fakeSecretsManager(values: Record<string, string>) {
  const requests: Array<{
    target: string | undefined;
    secretId: string;
    authorization: string | undefined;
    token: string | undefined;
  }> = [];
  const server = createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    const secretId: string = JSON.parse(body).SecretId;
    requests.push({
      target: request.headers["x-amz-target"] as string | undefined,
      secretId,
      authorization: request.headers.authorization,
      token: request.headers["x-amz-security-token"] as string | undefined,
    });
    const value = values[secretId];
    response.writeHead(value === undefined ? 400 : 200, {
      "content-type": "application/x-amz-json-1.1",
    });
    response.end(
      JSON.stringify(
        value === undefined
          ? { __type: "ResourceNotFoundException", message: "no such secret" }
          : { ARN: secretId, Name: "webhook", SecretString: value, VersionId: "v1" },
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

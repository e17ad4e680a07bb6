import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTableInput } from "../../functions/adapters/dynamodb/table-schema.js";
import { type FunctionName, ROUTE_KEYS } from "../../functions/handlers/route-keys.js";
import { PROJECT_ROOT } from "../../lib/constructs/tocsin-function.js";
import { httpEvent } from "../support/http-events.js";
import {
  actionsOf,
  asArray,
  assetDir,
  environmentOf,
  functionIds,
  functionServing,
  type Json,
  ofType,
  type Resources,
  readableSecrets,
  type Synthesized,
  statementsOf,
  synthesize,
} from "./template-queries.js";

// Synthesized once per variant in beforeAll: bundling three functions takes seconds.
/** Bundled: the bundle tests read its assets. */
let plain: Synthesized;
/** With the Grafana HMAC secret; not bundled, its template is all the tests read. */
let withHmac: Synthesized;

beforeAll(() => {
  plain = synthesize({ grafanaHmac: false, bundle: true });
  withHmac = synthesize({ grafanaHmac: true, bundle: false });
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
      expect(env.TOCSIN_CONFIG, id).toBe("/var/task/tocsin.yaml");
      expect(env.NODE_OPTIONS, id).toBe("--enable-source-maps");
      const logGroup = plain.resources[fn.Properties.LoggingConfig.LogGroup.Ref];
      expect(logGroup.Properties.RetentionInDays, id).toBeGreaterThan(0);
    }
  });

  it("get every variable lambda-runtime.ts requires, as references, not values", () => {
    const { resources } = plain;
    for (const [id] of ofType(resources, "AWS::Lambda::Function")) {
      const env = environmentOf(resources, id);
      expect(resources[env.TABLE_NAME.Ref].Type).toBe("AWS::DynamoDB::Table");
      for (const name of ["WEBHOOK_TOKEN_SECRET_ARN", "API_TOKEN_SECRET_ARN"]) {
        expect(resources[env[name].Ref]?.Type, `${id} ${name}`).toBe("AWS::SecretsManager::Secret");
      }
    }
  });

  it("never carry a token or secret value in their environment", () => {
    for (const synth of [plain, withHmac]) {
      for (const [id] of ofType(synth.resources, "AWS::Lambda::Function")) {
        for (const [name, value] of Object.entries(environmentOf(synth.resources, id))) {
          // The local server's plaintext variables must never reach Lambda.
          expect(name, id).not.toMatch(/^(TOCSIN_.*(TOKEN|SECRET)|SLACK_|PAGERDUTY_)/);
          if (/TOKEN|SECRET|PASSWORD|KEY/.test(name)) {
            expect(name, id).toMatch(/_ARN$/);
            expect(synth.resources[value.Ref]?.Type, `${id} ${name}`).toBe(
              "AWS::SecretsManager::Secret",
            );
          }
        }
      }
    }
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

  it("table access names the table and its indexes, never `*`", () => {
    const tableId = ofType(plain.resources, "AWS::DynamoDB::Table")[0]![0];
    const tableArn = { "Fn::GetAtt": [tableId, "Arn"] };
    for (const id of Object.values(functionIds(plain.resources))) {
      const dynamo = statementsOf(plain.resources, id).filter(
        (s) => actionsOf([s], "dynamodb").length > 0,
      );
      expect(dynamo.length, id).toBeGreaterThan(0);
      for (const statement of dynamo) {
        // Queries on the list paths go to the GSIs: without the index ARN they are denied.
        expect(asArray(statement.Resource), id).toEqual([
          tableArn,
          { "Fn::Join": ["", [tableArn, "/index/*"]] },
        ]);
      }
    }
  });

  it("each function reads only its own secrets", () => {
    const secretRef = (synth: Synthesized, id: string, variable: string) =>
      environmentOf(synth.resources, id)[variable].Ref;
    for (const synth of [plain, withHmac]) {
      const ids = functionIds(synth.resources);
      const webhook = secretRef(synth, ids.alertmanagerWebhook, "WEBHOOK_TOKEN_SECRET_ARN");
      const api = secretRef(synth, ids.readApi, "API_TOKEN_SECRET_ARN");
      expect(webhook).not.toBe(api);
      expect(readableSecrets(synth.resources, ids.alertmanagerWebhook)).toEqual([webhook]);
      expect(readableSecrets(synth.resources, ids.readApi)).toEqual([api]);
      const hmac = environmentOf(synth.resources, ids.grafanaWebhook).GRAFANA_HMAC_SECRET_ARN;
      expect(readableSecrets(synth.resources, ids.grafanaWebhook)).toEqual(
        [webhook, ...(hmac ? [hmac.Ref] : [])].sort(),
      );
      for (const id of Object.values(ids)) {
        expect(actionsOf(statementsOf(synth.resources, id), "secretsmanager"), id).toEqual([
          "secretsmanager:GetSecretValue",
        ]);
      }
    }
  });
});

describe("Grafana HMAC secret", () => {
  it("exists only when asked for, and only the grafana function is told about it", () => {
    expect(ofType(plain.resources, "AWS::SecretsManager::Secret")).toHaveLength(2);
    for (const id of Object.values(functionIds(plain.resources))) {
      expect(environmentOf(plain.resources, id).GRAFANA_HMAC_SECRET_ARN).toBeUndefined();
    }
    const ids = functionIds(withHmac.resources);
    const hmac = environmentOf(withHmac.resources, ids.grafanaWebhook).GRAFANA_HMAC_SECRET_ARN;
    expect(withHmac.resources[hmac.Ref].Type).toBe("AWS::SecretsManager::Secret");
    for (const id of [ids.alertmanagerWebhook, ids.readApi]) {
      expect(environmentOf(withHmac.resources, id).GRAFANA_HMAC_SECRET_ARN, id).toBeUndefined();
    }
    withHmac.template.hasOutput("GrafanaHmacSecretArn", { Value: { Ref: hmac.Ref } });
  });
});

describe("outputs", () => {
  it("give the URL, the table and the secrets' ARNs, never their values", () => {
    const { template, resources } = plain;
    const outputs = template.toJSON().Outputs;
    expect(JSON.stringify(outputs.ApiUrl.Value)).toContain("execute-api");
    expect(resources[outputs.TableName.Value.Ref].Type).toBe("AWS::DynamoDB::Table");
    for (const name of ["WebhookTokenSecretArn", "ApiTokenSecretArn"]) {
      // Ref of a secret is its ARN; Fn::GetAtt or a dynamic reference could be the value.
      expect(Object.keys(outputs[name].Value), name).toEqual(["Ref"]);
      expect(resources[outputs[name].Value.Ref].Type).toBe("AWS::SecretsManager::Secret");
    }
    expect(JSON.stringify(outputs)).not.toContain("resolve:secretsmanager");
  });
});

describe("bundles", () => {
  it("carry tocsin.yaml and the runbooks beside index.mjs", () => {
    const config = readFileSync(join(PROJECT_ROOT, "tocsin.yaml"), "utf8");
    const runbooks = readdirSync(join(PROJECT_ROOT, "runbooks"))
      .filter((file) => file.endsWith(".md"))
      .sort();
    expect(runbooks.length).toBeGreaterThan(0);
    for (const id of Object.values(functionIds(plain.resources))) {
      const dir = assetDir(plain, id);
      expect(readdirSync(dir), id).toEqual(
        expect.arrayContaining(["index.mjs", "index.mjs.map", "tocsin.yaml", "runbooks"]),
      );
      expect(readFileSync(join(dir, "tocsin.yaml"), "utf8"), id).toBe(config);
      expect(readdirSync(join(dir, "runbooks")).sort(), id).toEqual(runbooks);
    }
  });

  it("load as ESM on Node (CommonJS dependencies included) and answer GET /healthz", () => {
    const { resources } = plain;
    const script = `
      const { pathToFileURL } = await import("node:url");
      const results = {};
      for (const [name, file] of Object.entries(JSON.parse(process.env.BUNDLES))) {
        const { handler } = await import(pathToFileURL(file).href);
        results[name] = typeof handler;
      }
      const { handler } = await import(pathToFileURL(JSON.parse(process.env.BUNDLES).readApi).href);
      results.health = await handler(JSON.parse(process.env.EVENT), {});
      console.log(JSON.stringify(results));
    `;
    const ids = functionIds(resources);
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
        TOCSIN_CONFIG: join(assetDir(plain, ids.readApi), "tocsin.yaml"),
        TABLE_NAME: "incidents",
        WEBHOOK_TOKEN_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:w",
        API_TOKEN_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a",
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
      health: { statusCode: 200 },
    });
    expect(JSON.parse(output.health.body)).toEqual({ status: "ok" });
  });
});

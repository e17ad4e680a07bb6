import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Duration } from "aws-cdk-lib";
import { Policy, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import type { ServiceSnapshot } from "../../functions/adapters/service-snapshot.js";
import { BUNDLE_ALIASES, LAMBDA_BUNDLE } from "../bundle-options.js";
import { acknowledge, XRAY_WILDCARD_REASON } from "../nag.js";

/** The repository root: entry points, tocsin.yaml and runbooks/ are resolved from here. */
export const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Where the service snapshot lands in the bundle (tocsin.yaml and the runbooks as parsed
 * JSON, functions/adapters/service-snapshot.ts); Lambda unpacks the bundle into /var/task.
 */
export const BUNDLED_CONFIG_PATH = "/var/task/tocsin.json";

/**
 * Stages the service snapshot (tocsin.yaml and its runbooks, validated by the caller) under
 * node_modules/.cache, inside the project root that bundling sees (locally or in Docker),
 * for TocsinFunction's `serviceSnapshot`. Named by its content, so stacks synthesized at the
 * same time cannot overwrite each other's. Returns its path relative to the root.
 */
export function stageServiceSnapshot(snapshot: ServiceSnapshot): string {
  const json = JSON.stringify(snapshot);
  const staged = `node_modules/.cache/tocsin/service-${createHash("sha256").update(json).digest("hex").slice(0, 16)}.json`;
  const path = join(PROJECT_ROOT, staged);
  if (!existsSync(path)) {
    // Written whole, then renamed: a synth in another process never copies half a file.
    mkdirSync(dirname(path), { recursive: true });
    const partial = `${path}.${process.pid}.${randomUUID()}`;
    writeFileSync(partial, json);
    renameSync(partial, path);
  }
  return staged;
}

export interface TocsinFunctionProps {
  /** The entry file, relative to the repository root; it must export `handler`. */
  readonly entry: string;
  /** The staged service snapshot (stageServiceSnapshot), bundled as /var/task/tocsin.json. */
  readonly serviceSnapshot: string;
  readonly description?: string;
  /** @default 512 (more memory is more CPU: shorter cold starts for the same cost) */
  readonly memorySize?: number;
  /** @default 10 seconds (API Gateway gives up on an integration after 30) */
  readonly timeout?: Duration;
  /** Added to the default (TOCSIN_CONFIG). Never put secret values here. */
  readonly environment?: Record<string, string>;
  /** @default one month */
  readonly logRetention?: RetentionDays;
}

/**
 * Every tocsin Lambda: Node.js 22 on arm64, one minified ESM file with its source map,
 * X-Ray active, its own log group with a retention, and the config and runbooks (as one
 * JSON snapshot) bundled beside the code so the handler reads them from /var/task. Its role starts empty
 * but for writing to that log group and X-Ray; the stack grants the rest, per function.
 */
export class TocsinFunction extends NodejsFunction {
  /** The execution role: nothing but what is granted to it, no AWS managed policy. */
  readonly executionRole: Role;

  constructor(scope: Construct, id: string, props: TocsinFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });
    // Not AWSLambdaBasicExecutionRole, which may create and write to any log group.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      role,
      entry: join(PROJECT_ROOT, props.entry),
      handler: "handler",
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, "package-lock.json"),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      logGroup,
      environment: {
        TOCSIN_CONFIG: BUNDLED_CONFIG_PATH,
        // No NODE_OPTIONS=--enable-source-maps: it costs every cold start 10-15 ms (npm run
        // bench). The map ships beside index.mjs; set it on a function to debug a trace.
        ...props.environment,
      },
      bundling: {
        ...LAMBDA_BUNDLE,
        format: OutputFormat.ESM,
        mainFields: [...LAMBDA_BUNDLE.mainFields],
        // Bundle the AWS SDK v3 instead of using the copy in the nodejs22.x runtime. The
        // runtime does ship v3, but at a version AWS picks and updates without notice;
        // package-lock.json pins the one our tests ran against (Powertools Parameters and
        // lib-dynamodb included). Bundled and tree-shaken, only the two clients we use
        // are loaded, and a runtime update cannot change behaviour under us.
        bundleAwsSDK: true,
        externalModules: [],
        esbuildArgs: Object.fromEntries(
          Object.entries(BUNDLE_ALIASES).map(([name, path]) => [`--alias:${name}`, path]),
        ),
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // Runs in a shell after esbuild, LOCAL bundling or Docker alike.
          afterBundling: (inputDir: string, outputDir: string) => [
            `cp "${inputDir}/${props.serviceSnapshot}" "${outputDir}/tocsin.json"`,
          ],
        },
      },
    });
    this.executionRole = role;
    acknowledge(role, { "AwsSolutions-IAM5[Resource::*]": XRAY_WILDCARD_REASON });
    acknowledge(this, {
      "AwsSolutions-L1":
        "nodejs22.x on purpose: the bundles target node22 and the tests ran on it; Lambda " +
        "supports it until its deprecation on 2027-04-30. Moving to nodejs24.x is a runtime " +
        "upgrade of its own (bundle target, bench, README), not a lint fix.",
    });
  }

  /**
   * Lets the function invoke itself asynchronously, for work that must happen after it has
   * answered (the Slack function's notes). In a policy of its own: the role's default policy
   * is one the function depends on, so naming the function's ARN there would be a cycle.
   * Lambda retries no failed event (the work could be done twice) and drops one older than
   * `maxEventAge`; throttled events are still queued and retried by Lambda.
   */
  allowSelfInvoke(maxEventAge: Duration): void {
    new Policy(this, "SelfInvoke", {
      roles: [this.executionRole],
      statements: [
        new PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: [this.functionArn] }),
      ],
    });
    this.configureAsyncInvoke({ retryAttempts: 0, maxEventAge });
  }
}

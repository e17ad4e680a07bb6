import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { type FunctionName, ROUTE_KEYS } from "../../../functions/entry/route-keys.js";
import type { PhoneMessagingProps } from "../../../lib/constructs/phone-messaging.js";
import { PROJECT_ROOT } from "../../../lib/constructs/tocsin-function.js";
import { definitionFromTemplate } from "../../../lib/escalation-definition.js";
import { checkWithCdkNag } from "../../../lib/nag.js";
import { TocsinStack } from "../../../lib/tocsin-stack.js";

/** cdk.json's context, so tests synthesize with the feature flags `cdk synth` uses. */
const CDK_CONTEXT = JSON.parse(readFileSync(join(PROJECT_ROOT, "cdk.json"), "utf8")).context;

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON.
export type Json = any;
export type Resources = Record<string, Json>;

export interface Synthesized {
  /** The cloud assembly; the caller removes it. */
  outdir: string;
  stack: TocsinStack;
  template: Template;
  resources: Resources;
}

export interface SynthesisOptions {
  grafanaHmac: boolean;
  grafanaSignatureHeader?: string;
  grafanaTimestampHeader?: string;
  bundle: boolean;
  operatorEmail?: string;
  /** SMS, voice, two-way SMS, personal email (phones, WP2). */
  phones?: PhoneMessagingProps;
  /** Changes the stack before synthesis (to show what the checks refuse). */
  alter?: (stack: TocsinStack) => void;
}

/**
 * The Tocsin stack, synthesized into a temporary directory as lib/app.ts synthesizes it:
 * with cdk-nag, so an unacknowledged finding throws here. Without `bundle` esbuild is
 * skipped (an empty bundling-stacks list) and the code assets are placeholders.
 */
export function synthesize(options: SynthesisOptions): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), "tocsin-cdk-"));
  const bundling = options.bundle ? {} : { "aws:cdk:bundling-stacks": [] };
  const app = new App({ outdir, context: { ...CDK_CONTEXT, ...bundling } });
  checkWithCdkNag(app);
  const stack = new TocsinStack(app, "Tocsin", {
    grafanaHmac: options.grafanaHmac,
    grafanaSignatureHeader: options.grafanaSignatureHeader,
    grafanaTimestampHeader: options.grafanaTimestampHeader,
    operatorEmail: options.operatorEmail,
    phones: options.phones, // phones (WP2)
  });
  try {
    options.alter?.(stack);
    const template = Template.fromStack(stack);
    return { outdir, stack, template, resources: template.toJSON().Resources };
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
}

export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

export function ofType(resources: Resources, type: string): [string, Json][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

/** The logical id of the Lambda function behind a route key, through its integration. */
export function functionServing(resources: Resources, routeKey: string): string {
  const route = ofType(resources, "AWS::ApiGatewayV2::Route").find(
    ([, r]) => r.Properties.RouteKey === routeKey,
  );
  if (!route) throw new Error(`no route ${routeKey}`);
  const [prefix, target] = route[1].Properties.Target["Fn::Join"][1];
  const integration = resources[target?.Ref];
  if (prefix !== "integrations/" || integration?.Type !== "AWS::ApiGatewayV2::Integration") {
    throw new Error(`route ${routeKey} has no integration`);
  }
  return integration.Properties.IntegrationUri["Fn::GetAtt"][0];
}

export function functionIds(resources: Resources): Record<FunctionName, string> {
  const names = Object.keys(ROUTE_KEYS) as FunctionName[];
  return Object.fromEntries(
    names.map((name) => [name, functionServing(resources, ROUTE_KEYS[name][0])]),
  ) as Record<FunctionName, string>;
}

/** Every statement of every policy attached to the function's role (inline or separate). */
export function statementsOf(resources: Resources, functionId: string): Json[] {
  return roleStatements(resources, resources[functionId].Properties.Role["Fn::GetAtt"][0]);
}

/** Every statement of every policy attached to a role (inline or separate). */
export function roleStatements(resources: Resources, roleId: string): Json[] {
  const inline = (resources[roleId].Properties.Policies ?? []).map((p: Json) => p.PolicyDocument);
  const attached = ofType(resources, "AWS::IAM::Policy")
    .filter(([, p]) => asArray(p.Properties.Roles).some((r: Json) => r.Ref === roleId))
    .map(([, p]) => p.Properties.PolicyDocument);
  return [...inline, ...attached].flatMap((doc: Json) => asArray(doc.Statement));
}

export function actionsOf(statements: Json[], service: string): string[] {
  return statements
    .flatMap((s) => asArray<string>(s.Action))
    .filter((action) => action.startsWith(`${service}:`))
    .sort();
}

export function environmentOf(resources: Resources, functionId: string): Record<string, Json> {
  return resources[functionId].Properties.Environment?.Variables ?? {};
}

/** Logical ids of the secrets a function may read. */
export function readableSecrets(resources: Resources, functionId: string): string[] {
  return statementsOf(resources, functionId)
    .filter((s) => actionsOf([s], "secretsmanager").length > 0)
    .flatMap((s) => asArray(s.Resource))
    .map((resource: Json) => resource.Ref ?? JSON.stringify(resource))
    .sort();
}

export function assetDir(synth: Synthesized, functionId: string): string {
  const key: string = synth.resources[functionId].Properties.Code.S3Key;
  return join(synth.outdir, `asset.${key.replace(/\.zip$/, "")}`);
}

/** The operators' alarm topic, found through the output that tells operators about it. */
export function operatorTopicId(synth: Synthesized): string {
  const id = synth.template.toJSON().Outputs.OperatorAlarmsTopicArn.Value.Ref;
  if (synth.resources[id]?.Type !== "AWS::SNS::Topic") throw new Error("no operator topic");
  return id;
}

/** The topics of tocsin.yaml's email channels: every topic but the operators'. */
export function emailTopicIds(synth: Synthesized): string[] {
  const operators = operatorTopicId(synth);
  return ofType(synth.resources, "AWS::SNS::Topic")
    .map(([id]) => id)
    .filter((id) => id !== operators);
}

/** Every IAM role with its statements (inline or attached), by logical id. */
export function roles(resources: Resources): [string, Json[]][] {
  return ofType(resources, "AWS::IAM::Role").map(([id]) => [id, roleStatements(resources, id)]);
}

/** The one state machine: the escalation workflow. */
export function stateMachineOf(resources: Resources): [string, Json] {
  const machines = ofType(resources, "AWS::StepFunctions::StateMachine");
  if (machines.length !== 1) throw new Error(`expected one state machine, not ${machines.length}`);
  return machines[0]!;
}

/**
 * The escalation state machine's definition as JSON; each reference in it becomes
 * `refs(logicalId)` (by default the logical id itself).
 */
export function escalationDefinition(
  synth: Synthesized,
  refs: (logicalId: string) => string = (id) => id,
): Json {
  const template: Json = synth.template.toJSON();
  return definitionFromTemplate(template, refs);
}

/**
 * The escalation function, found as what the state machine's Tasks invoke, so that no
 * other function can pass for it.
 */
export function escalationFunctionId(synth: Synthesized): string {
  const referenced = new Set<string>();
  escalationDefinition(synth, (id) => {
    referenced.add(id);
    return id;
  });
  const [id, ...others] = referenced;
  if (!id || others.length > 0 || synth.resources[id]?.Type !== "AWS::Lambda::Function") {
    throw new Error(`the state machine invokes ${[...referenced].join(", ") || "nothing"}`);
  }
  return id;
}

/** The stack's one schedule (an EventBridge rule) and the function it runs: the owed-mirrors sweep. */
export function owedMirrorsSchedule(synth: Synthesized): { rule: Json; functionId: string } {
  const rules = ofType(synth.resources, "AWS::Events::Rule");
  if (rules.length !== 1) throw new Error(`expected one schedule, not ${rules.length}`);
  const [, rule] = rules[0]!;
  const targets = asArray(rule.Properties.Targets);
  const functionId = targets[0]?.Arn?.["Fn::GetAtt"]?.[0];
  if (targets.length !== 1 || synth.resources[functionId]?.Type !== "AWS::Lambda::Function")
    throw new Error("the schedule runs no function");
  return { rule, functionId };
}

/** The HTTP functions by name, plus the escalation function and the owed-mirrors sweep. */
export function everyFunctionId(
  synth: Synthesized,
): Record<FunctionName | "escalation" | "owedMirrors", string> {
  return {
    ...functionIds(synth.resources),
    escalation: escalationFunctionId(synth),
    owedMirrors: owedMirrorsSchedule(synth).functionId,
  };
}

/** Example values for the pseudo parameters, so a resolved ARN reads like a real one. */
const PSEUDO_PARAMETERS: Record<string, string> = {
  "AWS::Partition": "aws",
  "AWS::Region": "eu-west-1",
  "AWS::AccountId": "123456789012",
};

/**
 * An intrinsic (Fn::Join of Ref and Fn::GetAtt) as text: a pseudo parameter becomes an
 * example value, `{ Ref: id }` becomes `<id>` and `{ Fn::GetAtt: [id, attr] }` `<id.attr>`.
 */
export function resolveText(value: Json): string {
  if (typeof value === "string") return value;
  if (value["Fn::Join"]) {
    const [separator, parts] = value["Fn::Join"];
    return parts.map(resolveText).join(separator);
  }
  if (value.Ref) return PSEUDO_PARAMETERS[value.Ref] ?? `<${value.Ref}>`;
  if (value["Fn::GetAtt"]) return `<${value["Fn::GetAtt"].join(".")}>`;
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

/**
 * Why a Lambda environment variable could carry a secret value, or undefined when it
 * cannot. The local server's variables (TOCSIN_*_TOKEN, SLACK_*, PAGERDUTY_*) hold values
 * or point the notifiers elsewhere; in Lambda a name like those, or any name that sounds
 * secret, is allowed only as `<NAME>_SECRET_ARN` holding a reference to a Secrets Manager
 * secret (a Ref is its ARN; a dynamic reference or Fn::GetAtt could be its value).
 */
export function plaintextSecretProblem(
  name: string,
  value: Json,
  resources: Resources,
): string | undefined {
  const local = /^(TOCSIN_.*(TOKEN|SECRET)|SLACK_|PAGERDUTY_)/.test(name);
  if (!local && !/TOKEN|SECRET|PASSWORD|KEY/.test(name)) return undefined;
  if (!/^[A-Z0-9_]+_SECRET_ARN$/.test(name)) return `${name} is not a <NAME>_SECRET_ARN`;
  const isRef = typeof value === "object" && value !== null && Object.keys(value).join() === "Ref";
  if (!isRef || resources[value.Ref]?.Type !== "AWS::SecretsManager::Secret") {
    return `${name} is not a reference to a Secrets Manager secret`;
  }
  return undefined;
}

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { type FunctionName, ROUTE_KEYS } from "../../functions/handlers/route-keys.js";
import { PROJECT_ROOT } from "../../lib/constructs/tocsin-function.js";
import { TocsinStack } from "../../lib/tocsin-stack.js";

/** cdk.json's context, so tests synthesize with the feature flags `cdk synth` uses. */
const CDK_CONTEXT = JSON.parse(readFileSync(join(PROJECT_ROOT, "cdk.json"), "utf8")).context;

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON.
export type Json = any;
export type Resources = Record<string, Json>;

export interface Synthesized {
  /** The cloud assembly; the caller removes it. */
  outdir: string;
  template: Template;
  resources: Resources;
}

/**
 * The Tocsin stack, synthesized into a temporary directory. Without `bundle` esbuild is
 * skipped (an empty bundling-stacks list) and the code assets are placeholders.
 */
export function synthesize(options: { grafanaHmac: boolean; bundle: boolean }): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), "tocsin-cdk-"));
  const bundling = options.bundle ? {} : { "aws:cdk:bundling-stacks": [] };
  const app = new App({ outdir, context: { ...CDK_CONTEXT, ...bundling } });
  const stack = new TocsinStack(app, "Tocsin", { grafanaHmac: options.grafanaHmac });
  const template = Template.fromStack(stack);
  return { outdir, template, resources: template.toJSON().Resources };
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
  const roleId = resources[functionId].Properties.Role["Fn::GetAtt"][0];
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

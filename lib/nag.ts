import { type App, Stack, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
// The rule's own renderer of references, so an acknowledged finding is spelt as reported.
import { flattenCfnReference } from "cdk-nag/lib/utils/flatten-cfn-reference.js";
import type { IConstruct } from "constructs";

/**
 * Runs cdk-nag's AwsSolutions pack as a CDK policy validation plugin: any finding that is
 * not acknowledged, error or warning alike, fails the synthesis (`cdk synth`, and every
 * `Template.fromStack` in the tests). cdk-nag 3 replaced the v2 Aspect and
 * NagSuppressions with this plugin and `Validations.of(construct).acknowledge`.
 */
export function checkWithCdkNag(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}

/**
 * Acknowledges cdk-nag findings on `scope` and everything under it, each with the reason it
 * is acceptable here. Keys are rule ids, or `Rule[finding]` for one finding of a granular
 * rule (IAM4, IAM5), so that a new wildcard elsewhere on the same role is still reported.
 */
export function acknowledge(scope: IConstruct, reasons: Record<string, string>): void {
  for (const [id, reason] of Object.entries(reasons)) {
    Validations.of(scope).acknowledge({ id, reason });
  }
}

/** The id of cdk-nag's IAM5 finding for one wildcard resource ARN (tokens allowed). */
export function wildcardResource(scope: IConstruct, arn: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(arn))}]`;
}

/**
 * X-Ray's PutTraceSegments and PutTelemetryRecords, which active tracing needs, have no
 * resource-level permissions: `*` is the only resource they accept.
 */
export const XRAY_WILDCARD_REASON =
  "X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level " +
  "permissions (Resource must be *); test/infra asserts that only those actions get *.";

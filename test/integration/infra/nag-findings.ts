import { Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";

/** One cdk-nag finding: the rule (with its granular part) on one CloudFormation resource. */
export interface Finding {
  rule: string;
  path: string;
  severity: string;
}

function findings(pack: AwsSolutionsChecks, scope: IConstruct): Finding[] {
  return pack.validateScope(scope).violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => ({
      rule: violation.ruleName,
      path: resource.constructPath ?? "?",
      severity: violation.severity ?? "?",
    })),
  );
}

/** What the AwsSolutions pack reports under `scope` that nobody acknowledged. */
export function unacknowledgedFindings(scope: IConstruct): Finding[] {
  return findings(new AwsSolutionsChecks(), scope);
}

/**
 * Every finding, acknowledged or not. cdk-nag 3 looks acknowledgments up in a private
 * method; replaced, the pack reports everything (were it renamed, this would return what
 * `unacknowledgedFindings` does, and the stale-acknowledgment test would fail, not pass).
 */
export function allFindings(scope: IConstruct): Finding[] {
  const pack = new AwsSolutionsChecks();
  Object.assign(pack, { isAcknowledged: () => false });
  return findings(pack, scope);
}

export interface Acknowledgment {
  /** The construct it was made on; it covers that construct and everything under it. */
  path: string;
  rule: string;
  reason: string;
}

/** Every acknowledgment made with `Validations.of(…).acknowledge` under `scope`. */
export function acknowledgments(scope: IConstruct): Acknowledgment[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          // aws-cdk-lib stores the id as `Annotation::<id>`.
          rule: id.replace(/^annotation::/i, ""),
          reason,
        })),
      ),
  );
}

import { rmSync } from "node:fs";
import { Topic } from "aws-cdk-lib/aws-sns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acknowledgments, allFindings, unacknowledgedFindings } from "./nag-findings.js";
import { type Synthesized, synthesize } from "./template-queries.js";

// Templates only, no bundling; the variant with every optional resource (the Grafana HMAC
// secret, the operator's subscription). The others are checked as they are synthesized:
// synthesize() runs cdk-nag, and a finding makes it throw.
let synth: Synthesized;

beforeAll(() => {
  synth = synthesize({ grafanaHmac: true, bundle: false, operatorEmail: "ops@example.com" });
}, 60_000);

afterAll(() => {
  if (synth) rmSync(synth.outdir, { recursive: true, force: true });
});

describe("cdk-nag AwsSolutions", () => {
  it("finds nothing that is not acknowledged, error or warning", () => {
    expect(unacknowledgedFindings(synth.stack)).toEqual([]);
  });

  it("runs at every synthesis, and an unacknowledged finding fails it", () => {
    // A topic that accepts publishing over plain HTTP: AwsSolutions-SNS3.
    const withPlainTopic = () =>
      synthesize({
        grafanaHmac: false,
        bundle: false,
        alter: (stack) => new Topic(stack, "PlainTopic"),
      });
    expect(withPlainTopic).toThrow(/Tocsin\/PlainTopic\/Resource[\s\S]*AwsSolutions-SNS3/);
  });

  it("acknowledges only findings that exist, each where it occurs", () => {
    // A stale acknowledgment would silence the next real finding of that rule there.
    const found = allFindings(synth.stack);
    const acknowledged = acknowledgments(synth.stack);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { path, rule } of acknowledged) {
      const matches = found.filter((f) => f.rule === rule && f.path.startsWith(`${path}/`));
      expect(matches, `${rule} on ${path}`).not.toEqual([]);
    }
    // Every finding is acknowledged; the first test says the same from the other side.
    for (const finding of found) {
      const covered = acknowledged.some(
        ({ path, rule }) => rule === finding.rule && finding.path.startsWith(`${path}/`),
      );
      expect(covered, `${finding.rule} on ${finding.path}`).toBe(true);
    }
  });

  it("gives every acknowledgment a reason of its own, never a stack-wide blanket", () => {
    const { stack } = synth;
    for (const { path, rule, reason } of acknowledgments(stack)) {
      expect(path, rule).not.toBe(stack.node.path);
      // A sentence that says why, not "n/a" or "suppressed".
      expect(reason.length, `${rule} on ${path}`).toBeGreaterThanOrEqual(80);
      expect(reason, `${rule} on ${path}`).not.toMatch(/^(todo|n\/a|none|suppressed)/i);
    }
  });

  it("acknowledges these rules on these many constructs, no more (reasons are in lib/)", () => {
    const count: Record<string, number> = {};
    for (const { rule } of acknowledgments(synth.stack)) {
      // Logical ids without their hash: <Escalation745F543E.Arn> → <Escalation.Arn>.
      const name = rule.replace(/<([A-Za-z]+)[0-9A-F]{8}(\.\w+)?>/g, "<$1$2>");
      count[name] = (count[name] ?? 0) + 1;
    }
    expect(count).toEqual({
      // Every route: authorised in the function (token, HMAC, Slack or PagerDuty signature, link token).
      "AwsSolutions-APIG4": 13,
      // Every secret (the Grafana HMAC one included): shared tokens, vendor credentials
      // (PagerDuty's REST token and webhook secret too) and the acknowledgement links' key.
      "AwsSolutions-SMG4": 9,
      // Every function: nodejs22.x until its deprecation.
      "AwsSolutions-L1": 8,
      // Every role: X-Ray (and, for the state machine, log delivery) accept only `*`.
      "AwsSolutions-IAM5[Resource::*]": 9,
      // The five functions that stop escalations: execution ARNs are named at run time.
      "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<EscalationWorkflowStateMachine.Name>:*]": 5,
      // The state machine's invoke grant: the function's qualified ARNs.
      "AwsSolutions-IAM5[Resource::<Escalation.Arn>:*]": 1,
    });
  });
});

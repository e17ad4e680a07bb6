import { App, Stack } from "aws-cdk-lib";
import { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { EscalationStateMachine } from "./constructs/escalation.js";

/** The function ARN in the definition the local engine runs (it binds Tasks by state name). */
export const LOCAL_HANDLER_ARN = "arn:aws:lambda:local:000000000000:function:tocsin-escalation";

type Intrinsic =
  | string
  | { "Fn::Join": [string, Intrinsic[]] }
  | { Ref: string }
  | { "Fn::GetAtt": [string, string] };

/** Resolves the Fn::Join/Ref/GetAtt of a synthesized DefinitionString into text. */
export function resolveDefinition(value: Intrinsic, refs: (logicalId: string) => string): string {
  if (typeof value === "string") return value;
  if ("Fn::Join" in value)
    return value["Fn::Join"][1]
      .map((part) => resolveDefinition(part, refs))
      .join(value["Fn::Join"][0]);
  if ("Ref" in value) return refs(value.Ref);
  return refs(value["Fn::GetAtt"][0]);
}

/** Finds the escalation state machine in a synthesized template and returns its definition. */
export function definitionFromTemplate(
  template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> },
  refs: (logicalId: string) => string,
): unknown {
  const machines = Object.values(template.Resources).filter(
    (r) => r.Type === "AWS::StepFunctions::StateMachine",
  );
  if (machines.length !== 1)
    throw new Error(`expected one state machine, found ${machines.length}`);
  return JSON.parse(resolveDefinition(machines[0]!.Properties.DefinitionString as Intrinsic, refs));
}

/**
 * Synthesizes the escalation state machine alone (no bundling: the handler is an imported
 * function) and returns its Amazon States Language definition, as the local engine runs it.
 */
export function synthesizeEscalationDefinition(): unknown {
  const app = new App();
  const stack = new Stack(app, "EscalationDefinition");
  const handler = LambdaFunction.fromFunctionArn(stack, "Handler", LOCAL_HANDLER_ARN);
  new EscalationStateMachine(stack, "Escalation", { handler });
  const template = app.synth().getStackByName(stack.stackName).template;
  return definitionFromTemplate(template, (id) => {
    throw new Error(`unexpected reference to ${id}`);
  });
}

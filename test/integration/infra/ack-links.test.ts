import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_LOG_FORMAT } from "../../../lib/http-api.js";
import {
  actionsOf,
  environmentOf,
  everyFunctionId,
  functionServing,
  readableSecrets,
  resolveText,
  type Synthesized,
  statementsOf,
  synthesize,
} from "./template-queries.js";

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize({ grafanaHmac: false, bundle: false });
}, 120_000);
afterAll(() => {
  if (synth) rmSync(synth.outdir, { recursive: true, force: true });
});

describe("the acknowledgement links in the stack", () => {
  it("GET and POST /a/{token} go to their own function, which acts as a click does and nothing more", () => {
    const ids = everyFunctionId(synth);
    expect(functionServing(synth.resources, "GET /a/{token}")).toBe(ids.ackLinks);
    expect(functionServing(synth.resources, "POST /a/{token}")).toBe(ids.ackLinks);
    const statements = statementsOf(synth.resources, ids.ackLinks);
    expect(actionsOf(statements, "dynamodb")).toEqual(
      actionsOf(statementsOf(synth.resources, ids.slackInteractions), "dynamodb"),
    );
    expect(actionsOf(statements, "states")).toEqual([
      "states:StartExecution",
      "states:StopExecution",
    ]);
    expect(actionsOf(statements, "sns")).toEqual([]);
    expect(actionsOf(statements, "lambda")).toEqual([]);
    const env = environmentOf(synth.resources, ids.ackLinks);
    expect(readableSecrets(synth.resources, ids.ackLinks)).toEqual([
      env.ACK_LINK_KEY_SECRET_ARN.Ref,
    ]);
  });

  it("the escalation signs links under the API's own URL, and no access log line carries a path", () => {
    const ids = everyFunctionId(synth);
    const env = environmentOf(synth.resources, ids.escalation);
    expect(resolveText(env.TOCSIN_PUBLIC_URL)).toMatch(
      /^https:\/\/<Api[0-9A-F]+>\.execute-api\.eu-west-1\.<AWS::URLSuffix>\/$/,
    );
    expect(Object.values(ACCESS_LOG_FORMAT)).not.toContain("$context.path");
    const stage = Object.values(synth.resources).find((r) => r.Type === "AWS::ApiGatewayV2::Stage");
    expect(stage.Properties.AccessLogSettings.Format).not.toContain("$context.path");
  });
});

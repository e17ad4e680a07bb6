import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SFNClient } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { awsClientConfig, worstCaseCallMs } from "../../../functions/adapters/aws-clients.js";
import { ServiceUnavailableError } from "../../../functions/core/errors.js";
import { StepFunctionsRunner } from "../../../functions/escalation/step-functions.js";
import { DynamoFaultProxy } from "../../support/fault-proxy.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:escalation";
const EXECUTIONS = "arn:aws:states:eu-west-1:123456789012:execution:escalation";

interface Call {
  operation: string;
  body: Record<string, string>;
}

let calls: Call[];
let started: Set<string>;
let server: ReturnType<typeof createServer>;
let runner: StepFunctionsRunner;
let endpoint: string;

/**
 * Step Functions' StartExecution and StopExecution (JSON 1.0 protocol) on 127.0.0.1, with
 * its answers for a name that already ran and an execution that does not exist.
 */
beforeAll(async () => {
  server = createServer(async (request, response) => {
    let text = "";
    for await (const chunk of request) text += chunk;
    const operation = String(request.headers["x-amz-target"]).split(".")[1]!;
    const body = JSON.parse(text) as Record<string, string>;
    calls.push({ operation, body });
    const answer = (status: number, json: unknown) => {
      response.writeHead(status, { "content-type": "application/x-amz-json-1.0" });
      response.end(JSON.stringify(json));
    };
    if (operation === "StartExecution") {
      if (body.name === "bad name")
        return answer(400, { __type: "InvalidName", message: "not a name" });
      if (started.has(body.name!))
        return answer(400, { __type: "ExecutionAlreadyExists", message: "it ran" });
      started.add(body.name!);
      return answer(200, { executionArn: `${EXECUTIONS}:${body.name}`, startDate: 1 });
    }
    const name = body.executionArn!.slice(`${EXECUTIONS}:`.length);
    if (!started.has(name))
      return answer(400, { __type: "ExecutionDoesNotExist", message: "no such execution" });
    return answer(200, { stopDate: 1 });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  endpoint = `http://127.0.0.1:${port}`;
  runner = new StepFunctionsRunner(
    new SFNClient({
      endpoint,
      region: "eu-west-1",
      credentials: { accessKeyId: "t", secretAccessKey: "t" },
    }),
    MACHINE,
  );
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  calls = [];
  started = new Set();
});

/** When a started or resumed execution is due (the lifecycle's effects say). */
const DUE = "2026-11-30T09:00:00.000Z";

describe("escalations as Step Functions executions", () => {
  it("starts, mirrors and resumes under the incident's names, with the input the definition reads", async () => {
    await runner.start("inc-1", "2026-11-30T09:00:00.000Z");
    await runner.mirror("inc-1", "acknowledge");
    await runner.resume("inc-1", 2, "2026-11-30T09:30:00.000Z", "1");
    const inputs = calls.map((call) => [call.body.name, JSON.parse(call.body.input!)]);
    expect(calls.every((call) => call.body.stateMachineArn === MACHINE)).toBe(true);
    const [, start] = inputs[0]!;
    // The times are the lifecycle's (its effects), not the runner's clock.
    expect(start).toEqual({ incidentId: "inc-1", step: 0, dueAt: "2026-11-30T09:00:00.000Z" });
    expect(inputs.slice(0, 2).map(([name]) => name)).toEqual(["inc-1", "inc-1-acknowledge"]);
    expect(inputs[1]![1]).toEqual({ incidentId: "inc-1", mirror: "acknowledge" });
    const [name, resumed] = inputs[2]!;
    expect(name).toBe("inc-1-snooze-1");
    // Shaped as a step's output that is not done: the definition waits until dueAt first.
    expect(resumed).toEqual({
      incidentId: "inc-1",
      step: 2,
      done: false,
      dueAt: "2026-11-30T09:30:00.000Z",
    });
  });

  it("takes a start retried after it went through as done (ExecutionAlreadyExists)", async () => {
    await runner.start("inc-2", DUE);
    await expect(runner.start("inc-2", DUE)).resolves.toBeUndefined();
    expect(calls.map((call) => call.operation)).toEqual(["StartExecution", "StartExecution"]);
  });

  it("stops the escalation and the executions its snoozes resumed; one already gone is fine", async () => {
    await runner.start("inc-3", DUE);
    await runner.resume("inc-3", 1, DUE, "1");
    await runner.stop("inc-3", 2);
    const stops = calls.filter((call) => call.operation === "StopExecution");
    expect(stops.map((call) => call.body.executionArn).sort()).toEqual([
      `${EXECUTIONS}:inc-3`,
      `${EXECUTIONS}:inc-3-snooze-1`,
      `${EXECUTIONS}:inc-3-snooze-2`,
    ]);
  });

  it("lets any other error through, so the caller answers 5xx and the sender retries", async () => {
    const broken = new StepFunctionsRunner(
      new SFNClient({
        endpoint: "http://127.0.0.1:9",
        region: "eu-west-1",
        credentials: { accessKeyId: "t", secretAccessKey: "t" },
        maxAttempts: 1,
      }),
      MACHINE,
    );
    await expect(broken.start("inc-4", DUE)).rejects.toThrow();
  });

  it("passes a refusal of the request through unchanged", async () => {
    await expect(runner.start("bad name", DUE)).rejects.toMatchObject({ name: "InvalidName" });
  });

  it.each(["reset", "hang"] as const)(
    "turns a %s connection into ServiceUnavailableError (503, the sender retries), in bounded time",
    async (fault) => {
      // The DynamoDB fault proxy speaks HTTP to any JSON 1.0 AWS endpoint: here Step Functions.
      const proxy = await DynamoFaultProxy.start({ upstream: endpoint });
      try {
        const faulty = new StepFunctionsRunner(
          new SFNClient({
            ...awsClientConfig(),
            endpoint: proxy.endpoint,
            region: "eu-west-1",
            credentials: { accessKeyId: "t", secretAccessKey: "t" },
          }),
          MACHINE,
        );
        proxy.setFaults({ rate: 1, kinds: [fault] });
        await expect(faulty.start("inc-5", DUE)).rejects.toBeInstanceOf(ServiceUnavailableError);
        await expect(faulty.stop("inc-5")).rejects.toBeInstanceOf(ServiceUnavailableError);
        proxy.setFaults(null);
        proxy.releaseHangs();
        await faulty.start("inc-5", DUE);
        expect(started.has("inc-5")).toBe(true);
      } finally {
        await proxy.close();
      }
    },
    worstCaseCallMs() * 3,
  );
});

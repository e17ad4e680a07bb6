import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthorizationErrorException,
  InternalErrorException,
  type PublishCommandInput,
  SNSClient,
} from "@aws-sdk/client-sns";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EmailMessage } from "../../../functions/integrations/email/message.js";
import { EmailNotifier } from "../../../functions/integrations/email/notifier.js";
import { fileOutbox } from "../../../functions/integrations/email/outbox.js";
import { notification } from "../../support/notifications.js";

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:tocsin-oncall";

/**
 * An SNSClient whose requests never leave the process: a middleware at the end of the
 * finalizeRequest step (inside the SDK's retry loop, before any HTTP) records each
 * PublishCommand input and answers, or throws what `fail` returns. There is no SNS stand-in to run, so this is the seam.
 */
function snsClient(fail: (call: number) => Error | undefined = () => undefined) {
  const inputs: PublishCommandInput[] = [];
  const client = new SNSClient({
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-secret" },
    maxAttempts: 2,
  });
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      expect(context.commandName).toBe("PublishCommand");
      inputs.push(args.input as PublishCommandInput);
      const error = fail(inputs.length);
      if (error) throw error;
      return { output: { MessageId: `msg-${inputs.length}`, $metadata: {} }, response: {} };
    },
    { step: "finalizeRequest", name: "captureSnsPublish", priority: "low" },
  );
  return { client, inputs };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tocsin-outbox-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("EmailNotifier with SNS", () => {
  it("publishes subject and body to the topic of the channel's address", async () => {
    const sns = snsClient();
    const notifier = new EmailNotifier({
      sns: { client: sns.client, topics: { "oncall@example.com": TOPIC } },
    });

    const outcome = await notifier.send(notification("email-oncall"));

    expect(outcome).toEqual({
      status: "delivered",
      detail: "published to SNS for oncall@example.com (message msg-1)",
    });
    expect(sns.inputs).toHaveLength(1);
    const [input] = sns.inputs;
    expect(input!.TopicArn).toBe(TOPIC);
    expect(input!.Subject).toBe("[CRITICAL] GPU 3 memory above 95% on trainer-7 (ml-training)");
    expect(input!.Message).toMatch(/^CRITICAL: GPU 3 memory above 95% on trainer-7\n/);
    expect(input!.Message).toContain("## Diagnosis");
  });

  it("reports the SDK's error by name and does not retry what is not retryable", async () => {
    const sns = snsClient(
      () =>
        new AuthorizationErrorException({
          message: "not authorized to perform SNS:Publish",
          $metadata: { httpStatusCode: 403 },
        }),
    );
    const notifier = new EmailNotifier({
      sns: { client: sns.client, topics: { "oncall@example.com": TOPIC } },
    });

    const outcome = await notifier.send(notification("email-oncall"));

    expect(outcome).toEqual({
      status: "failed",
      detail:
        "SNS publish failed: AuthorizationErrorException: not authorized to perform SNS:Publish",
      retryable: false,
    });
    expect(sns.inputs).toHaveLength(1);
  });

  it("leaves a 5xx to the SDK's retries, then reports it as retryable later", async () => {
    const sns = snsClient(
      () =>
        new InternalErrorException({
          message: "internal error",
          $metadata: { httpStatusCode: 500 },
        }),
    );
    const notifier = new EmailNotifier({
      sns: { client: sns.client, topics: { "oncall@example.com": TOPIC } },
    });

    const outcome = await notifier.send(notification("email-oncall"));

    expect(outcome).toEqual({
      status: "failed",
      detail: "SNS publish failed: InternalErrorException: internal error",
      retryable: true,
    });
    expect(sns.inputs).toHaveLength(2);
  });

  it("sends an address without a topic to the outbox, or nowhere", async () => {
    const sns = snsClient();
    const written: EmailMessage[] = [];
    const topics = { "someone-else@example.com": TOPIC };

    const withOutbox = await new EmailNotifier({
      sns: { client: sns.client, topics },
      outbox: async (message) => {
        written.push(message);
      },
    }).send(notification("email-oncall"));
    const without = await new EmailNotifier({ sns: { client: sns.client, topics } }).send(
      notification("email-oncall"),
    );

    expect(withOutbox).toEqual({ status: "delivered", detail: "written to the local outbox" });
    expect(written.map((m) => [m.to, m.subject])).toEqual([
      ["oncall@example.com", "[CRITICAL] GPU 3 memory above 95% on trainer-7 (ml-training)"],
    ]);
    expect(without).toEqual({
      status: "not_delivered",
      reason: "no_credentials",
      detail: "not delivered: no credentials",
    });
    expect(sns.inputs).toHaveLength(0);
  });
});

describe("EmailNotifier with the file outbox", () => {
  it("writes one readable file per email and prints a one-line notice", async () => {
    const printed: string[] = [];
    const notifier = new EmailNotifier({
      outbox: fileOutbox(join(dir, "outbox"), (line) => printed.push(line)),
    });

    const first = await notifier.send(notification("email-oncall"));
    const second = await notifier.send(
      notification("email-oncall", { kind: "resolve", actor: "alertmanager" }),
    );

    expect([first, second]).toEqual([
      { status: "delivered", detail: "written to the local outbox" },
      { status: "delivered", detail: "written to the local outbox" },
    ]);
    const files = (await readdir(join(dir, "outbox"))).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(
      /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-oncall@example\.com-[0-9a-f]{8}\.txt$/,
    );
    const text = await readFile(join(dir, "outbox", files[0]!), "utf8");
    expect(text).toMatch(
      /^To: oncall@example\.com\nSubject: \[CRITICAL\] GPU 3 memory above 95% on trainer-7 \(ml-training\)\n\nCRITICAL: /,
    );
    expect(text).toContain("## Resolution");
    expect(printed).toHaveLength(2);
    const notice = JSON.parse(printed[0]!);
    expect(notice).toEqual({
      message: "email written to the local outbox",
      to: "oncall@example.com",
      subject: "[CRITICAL] GPU 3 memory above 95% on trainer-7 (ml-training)",
      file: join(dir, "outbox", files[0]!),
    });
  });

  it("reports a write that fails", async () => {
    const notifier = new EmailNotifier({
      outbox: async () => {
        throw Object.assign(new Error("EACCES: permission denied, open '/outbox/x.txt'"), {
          code: "EACCES",
        });
      },
    });

    const outcome = await notifier.send(notification("email-oncall"));

    expect(outcome).toEqual({
      status: "failed",
      detail: "local outbox failed: Error: EACCES: permission denied, open '/outbox/x.txt'",
    });
  });

  it("sends nothing without a topic or an outbox", async () => {
    const outcome = await new EmailNotifier().send(notification("email-oncall"));

    expect(outcome).toEqual({
      status: "not_delivered",
      reason: "no_credentials",
      detail: "not delivered: no credentials",
    });
  });
});

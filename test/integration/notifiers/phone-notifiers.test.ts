import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { PinpointSMSVoiceV2Client } from "@aws-sdk/client-pinpoint-sms-voice-v2";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { SNSClient } from "@aws-sdk/client-sns";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AWS_CALL_POLICY, awsClientConfig } from "../../../functions/adapters/aws-clients.js";
import type { ContactTarget } from "../../../functions/core/contacts.js";
import type { Notification } from "../../../functions/core/notification.js";
import { EmailNotifier } from "../../../functions/integrations/email/notifier.js";
import { fileOutbox } from "../../../functions/integrations/email/outbox.js";
import { segments } from "../../../functions/integrations/sms/message.js";
import { SmsNotifier } from "../../../functions/integrations/sms/notifier.js";
import { MemorySmsReplyBook } from "../../../functions/integrations/sms/reply-book.js";
import { VoiceNotifier } from "../../../functions/integrations/voice/notifier.js";
import { FakeAwsMessaging } from "../../support/fake-aws-messaging.js";
import { DMITRI, incident, notification } from "../../support/notifications.js";

const PHONE = "+447700900123";
const MASKED = "+44••••••0123";
const ORIGINATION = "+447700900999";
const LINKS = {
  acknowledge:
    "https://tocsin.example.com/a/AQFhAAAAAAAAAAAAAAAAAAAAAAAAAGRtaXRyaQ.q2-7wAAAAAAAAAAAAAAAAA",
  resolve:
    "https://tocsin.example.com/a/AXJhAAAAAAAAAAAAAAAAAAAAAAAAAGRtaXRyaQ.CgsMDQ4PEBESExQVFhcYGQ",
};

let fake: FakeAwsMessaging;
let sns: SNSClient;
let voice: PinpointSMSVoiceV2Client;
let ses: SESv2Client;
const logger = new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" });

beforeAll(async () => {
  fake = await FakeAwsMessaging.start({
    voiceOriginations: [ORIGINATION],
    emailIdentities: ["tocsin@example.com"],
    optedOut: ["+447700900777"],
  });
  // As the escalation function builds them: one attempt, the pipeline retries.
  const config = {
    ...awsClientConfig({ ...AWS_CALL_POLICY, maxAttempts: 1, requestTimeoutMs: 500 }),
    ...fake.clientConfig(),
  };
  sns = new SNSClient(config);
  voice = new PinpointSMSVoiceV2Client(config);
  ses = new SESv2Client(config);
});
afterEach(() => fake.reset());
afterAll(async () => {
  for (const client of [sns, voice, ses]) client.destroy();
  await fake.close();
});

function personal(
  method: ContactTarget["method"],
  address: string,
  over: Partial<Notification> = {},
): Notification {
  const channel =
    method === "email"
      ? { type: "email" as const, address }
      : { type: method as "sms" | "voice", phone: address };
  return notification("pagerduty", {
    channelId: `@dmitri:${method}`,
    channel,
    contact: { userId: "dmitri", name: DMITRI.name, method, address, rule: 0 },
    links: LINKS,
    ...over,
  });
}

describe("SmsNotifier through SNS", () => {
  it("publishes a transactional text from the origination number, carrying the link; phone masked in the outcome", async () => {
    const replyBook = new MemorySmsReplyBook();
    const notifier = new SmsNotifier({
      sns,
      originationNumber: ORIGINATION,
      replyBook,
      logger,
      now: () => new Date("2026-11-30T09:00:06.000Z"),
    });

    const outcome = await notifier.send(personal("sms", PHONE));

    const sent = fake.sms[0]!;
    expect(sent).toMatchObject({
      to: PHONE,
      attributes: {
        "AWS.SNS.SMS.SMSType": "Transactional",
        "AWS.MM.SMS.OriginationNumber": ORIGINATION,
      },
      handset: true,
    });
    expect(sent.message).toBe(
      `tocsin CRIT GPU 3 memory above 95% on trainer-7 (ml-training) Ack: ${LINKS.acknowledge} or reply 1`,
    );
    expect(segments(sent.message)).toBeLessThanOrEqual(2);
    expect(outcome).toEqual({
      status: "delivered",
      detail: `accepted by SNS for ${MASKED} (message ${sent.messageId}); handset delivery not confirmed`,
      providerId: sent.messageId,
    });
    expect(JSON.stringify(outcome)).not.toContain(PHONE);
    expect(await replyBook.latest(PHONE)).toEqual({
      incidentId: "inc-20261130-0001",
      sentAt: "2026-11-30T09:00:06.000Z",
    });
  });

  it("without a reply book, the text does not offer a reply and has no origination attribute unless set", async () => {
    await new SmsNotifier({ sns, senderId: "tocsin", logger }).send(personal("sms", PHONE));

    expect(fake.sms[0]!.message).toMatch(/Ack: \S+$/);
    expect(fake.sms[0]!.attributes).toEqual({
      "AWS.SNS.SMS.SMSType": "Transactional",
      "AWS.SNS.SMS.SenderID": "tocsin",
    });
  });

  it("tells the truth about an opted-out number: accepted by SNS, not confirmed on the handset", async () => {
    const outcome = await new SmsNotifier({ sns, logger }).send(personal("sms", "+447700900777"));

    expect(outcome.status).toBe("delivered");
    expect(outcome.detail).toMatch(/handset delivery not confirmed$/);
    expect(fake.sms[0]!.handset).toBe(false);
  });

  it.each([
    [
      "Throttled (429)",
      { status: 429, code: "Throttled", retryAfter: 3 },
      true,
      /ThrottledException/,
    ],
    ["InternalError (500)", { status: 500, code: "InternalError" }, true, /InternalErrorException/],
    ["a dropped connection", { drop: true }, true, /SNS did not accept/],
    ["no answer", { hang: true }, true, /TimeoutError/],
    [
      "AuthorizationError (403)",
      { status: 403, code: "AuthorizationError" },
      false,
      /AuthorizationErrorException/,
    ],
  ])("%s is failed, retryable: %s", async (_, failure, retryable, detail) => {
    fake.failNext("sns", failure);

    const outcome = await new SmsNotifier({ sns, logger }).send(personal("sms", PHONE));

    expect(outcome).toMatchObject({ status: "failed", retryable });
    expect(outcome.detail).toMatch(detail);
    expect(outcome.detail).toContain(MASKED);
    if ("retryAfter" in failure) expect(outcome.retryAfterMs).toBe(3000);
  });

  it("a refused number is final, SNS's code in the detail, the number masked even where SNS quotes it", async () => {
    const outcome = await new SmsNotifier({ sns, logger }).send(personal("sms", "+0447700900123"));

    expect(outcome.status).toBe("failed");
    expect(outcome.retryable).toBe(false);
    expect(outcome.detail).toMatch(/InvalidParameterException: Invalid parameter: PhoneNumber/);
    expect(outcome.detail).not.toContain("447700900123");
    expect(outcome.detail).toMatch(/Reason: \+0•+0123 is not valid to publish to/);
  });

  it("a reply book that fails costs the reply path, not the page", async () => {
    const broken = {
      remember: async () => {
        throw new Error("StoreUnavailableError");
      },
      latest: async () => null,
    };
    const outcome = await new SmsNotifier({
      sns,
      logger,
      replyBook: broken,
      originationNumber: ORIGINATION,
    }).send(personal("sms", PHONE));

    expect(outcome.status).toBe("delivered");
  });
});

describe("VoiceNotifier through End User Messaging", () => {
  it("places an SSML call from the origination identity, five minutes to live; masked outcome", async () => {
    const notifier = new VoiceNotifier({
      client: voice,
      originationIdentity: ORIGINATION,
      replies: true,
    });

    const outcome = await notifier.send(
      personal("voice", PHONE, { incident: incident({ title: "R&D <db> down" }) }),
    );

    const call = fake.calls[0]!;
    expect(call).toMatchObject({
      to: PHONE,
      from: ORIGINATION,
      bodyType: "SSML",
      voiceId: "JOANNA",
      timeToLive: 300,
      status: 200,
    });
    expect(call.body).toContain("Critical incident for team ml-training: R&amp;D &lt;db&gt; down.");
    expect(call.body).toContain(
      "open the link in the text message or Slack message we sent you, or reply 1",
    );
    expect(outcome).toEqual({
      status: "delivered",
      detail: `call placed by End User Messaging to ${MASKED} (message ${call.messageId}); answer not confirmed`,
      providerId: call.messageId,
    });
  });

  it.each([
    ["throttling", { status: 400, code: "ThrottlingException" }, true],
    ["a 500", { status: 500 }, true],
    ["no answer", { hang: true }, true],
    ["access denied", { status: 400, code: "AccessDeniedException" }, false],
  ])("%s is failed, retryable: %s", async (_, failure, retryable) => {
    fake.failNext("voice", failure);

    const outcome = await new VoiceNotifier({
      client: voice,
      originationIdentity: ORIGINATION,
    }).send(personal("voice", PHONE));

    expect(outcome).toMatchObject({ status: "failed", retryable });
    expect(outcome.detail).toContain(MASKED);
  });

  it("the daily limit of calls to one number is final, with its Reason", async () => {
    const limited = await FakeAwsMessaging.start({
      voiceOriginations: [ORIGINATION],
      dailyCallsPerDestination: 1,
    });
    const client = new PinpointSMSVoiceV2Client({ ...limited.clientConfig(), maxAttempts: 1 });
    try {
      const notifier = new VoiceNotifier({ client, originationIdentity: ORIGINATION });
      expect((await notifier.send(personal("voice", PHONE))).status).toBe("delivered");

      const outcome = await notifier.send(personal("voice", PHONE));

      expect(outcome).toMatchObject({ status: "failed", retryable: false });
      expect(outcome.detail).toMatch(
        /ServiceQuotaExceededException \(DAILY_DESTINATION_CALL_LIMIT\)/,
      );
    } finally {
      client.destroy();
      await limited.close();
    }
  });

  it("an origination identity the account does not have is final", async () => {
    const outcome = await new VoiceNotifier({
      client: voice,
      originationIdentity: "+15550000000",
    }).send(personal("voice", PHONE));

    expect(outcome).toMatchObject({ status: "failed", retryable: false });
    expect(outcome.detail).toMatch(/ResourceNotFoundException/);
  });

  it("without a client or an identity, and no outbox, it sends nothing", async () => {
    expect(await new VoiceNotifier({ client: voice }).send(personal("voice", PHONE))).toMatchObject(
      {
        status: "not_delivered",
        reason: "no_credentials",
      },
    );
    expect(fake.calls).toEqual([]);
  });
});

describe("EmailNotifier: a person's email through SES v2", () => {
  it("sends from the verified identity to the person, with the links first; a channel email stays on SNS", async () => {
    const notifier = new EmailNotifier({ ses: { client: ses, from: "tocsin@example.com" } });

    const outcome = await notifier.send(personal("email", "dmitri@example.com"));
    const channel = await notifier.send(notification("email-oncall"));

    const email = fake.emails[0]!;
    expect(email).toMatchObject({
      from: "tocsin@example.com",
      to: ["dmitri@example.com"],
      subject: "[CRITICAL] GPU 3 memory above 95% on trainer-7 (ml-training)",
    });
    expect(email.text).toContain(
      `Acknowledge: ${LINKS.acknowledge}\nResolve:     ${LINKS.resolve}\n`,
    );
    expect(outcome).toEqual({
      status: "delivered",
      detail: `accepted by SES for dmitri@example.com (message ${email.messageId})`,
      providerId: email.messageId,
    });
    expect(channel).toMatchObject({ status: "not_delivered", reason: "no_credentials" });
    expect(fake.emails).toHaveLength(1);
  });

  it.each([
    [
      "an unverified sender (MessageRejected)",
      "someone@elsewhere.com",
      undefined,
      false,
      /MessageRejected: Email address is not verified/,
    ],
    [
      "TooManyRequests (429)",
      "tocsin@example.com",
      { status: 429, code: "TooManyRequestsException" },
      true,
      /TooManyRequestsException/,
    ],
    [
      "a 503",
      "tocsin@example.com",
      { status: 503, code: "ServiceUnavailable" },
      true,
      /SES did not accept/,
    ],
    [
      "SendingPaused",
      "tocsin@example.com",
      { status: 400, code: "SendingPausedException" },
      false,
      /SendingPausedException/,
    ],
  ])("%s is failed, retryable: %s", async (_, from, failure, retryable, detail) => {
    if (failure) fake.failNext("email", failure);

    const outcome = await new EmailNotifier({ ses: { client: ses, from } }).send(
      personal("email", "dmitri@example.com"),
    );

    expect(outcome).toMatchObject({ status: "failed", retryable });
    expect(outcome.detail).toMatch(detail);
  });
});

describe("the local outbox for phones", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tocsin-phone-outbox-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the SMS and the call as files, 'written to the local outbox', the number masked in name and notice", async () => {
    const printed: string[] = [];
    const outbox = fileOutbox(dir, (line) => printed.push(line));

    const sms = await new SmsNotifier({ outbox, logger }).send(personal("sms", PHONE));
    const call = await new VoiceNotifier({ outbox }).send(personal("voice", PHONE));

    expect([sms, call]).toEqual([
      { status: "delivered", detail: "written to the local outbox" },
      { status: "delivered", detail: "written to the local outbox" },
    ]);
    const files = (await readdir(dir)).sort();
    expect(files.map((f) => f.replace(/^[\dT-]+Z-/, "").replace(/-[0-9a-f]{8}\.txt$/, ""))).toEqual(
      expect.arrayContaining(["sms-+44xxxxxx0123", "voice-+44xxxxxx0123"]),
    );
    const smsFile = await readFile(join(dir, files.find((f) => f.includes("-sms-"))!), "utf8");
    expect(smsFile).toBe(
      `To: ${PHONE}\nKind: sms\n\ntocsin CRIT GPU 3 memory above 95% on trainer-7 (ml-training) Ack: ${LINKS.acknowledge}`,
    );
    expect(printed.join("\n")).not.toContain(PHONE);
    expect(JSON.parse(printed[0]!)).toMatchObject({
      message: "SMS written to the local outbox",
      to: MASKED,
    });
    expect(fake.sms).toEqual([]);
  });
});

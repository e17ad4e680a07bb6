import {
  AccessDeniedException,
  PinpointSMSVoiceV2Client,
  ResourceNotFoundException,
  SendVoiceMessageCommand,
  type SendVoiceMessageCommandInput,
  ServiceQuotaExceededException,
  ThrottlingException,
  ValidationException,
  InternalServerException as VoiceInternalServerException,
} from "@aws-sdk/client-pinpoint-sms-voice-v2";
import {
  BadRequestException,
  MessageRejected,
  SESv2Client,
  SESv2ServiceException,
  SendEmailCommand,
  type SendEmailCommandInput,
  TooManyRequestsException,
} from "@aws-sdk/client-sesv2";
import {
  InternalErrorException,
  InvalidParameterException,
  PublishCommand,
  type PublishCommandInput,
  SNSClient,
  SNSServiceException,
  ThrottledException,
} from "@aws-sdk/client-sns";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isServiceFault } from "../../../functions/adapters/aws-clients.js";
import { FakeAwsMessaging } from "../../support/fake-aws-messaging.js";

/*
 * The fake is only as good as its wire format: every answer it gives, success or refusal, is
 * parsed here by the real SDK clients, and each refusal must arrive as the exception class
 * the service documents for it (with its fields), so that the notifiers' tests against the
 * fake say something about AWS.
 */

const ALICE = "+447700900123";
const BOB = "+447700900456";
const ORIGINATION = "+447700900999";

let fake: FakeAwsMessaging;
let sns: SNSClient;
let voice: PinpointSMSVoiceV2Client;
let ses: SESv2Client;

beforeAll(async () => {
  fake = await FakeAwsMessaging.start({
    optedOut: [BOB],
    voiceOriginations: [ORIGINATION],
    dailyCallsPerDestination: 2,
    emailIdentities: ["tocsin@example.com", "example.org"],
    smsPerSecond: 1_000,
  });
  const config = { ...fake.clientConfig(), maxAttempts: 1 };
  sns = new SNSClient(config);
  voice = new PinpointSMSVoiceV2Client(config);
  ses = new SESv2Client(config);
});
afterEach(() => fake.reset());
afterAll(async () => {
  sns.destroy();
  voice.destroy();
  ses.destroy();
  await fake.close();
});

const text = (over: Partial<PublishCommandInput> = {}): PublishCommandInput => ({
  PhoneNumber: ALICE,
  Message: "tocsin CRIT disk full (storage) Ack: http://x/a/1",
  MessageAttributes: {
    "AWS.SNS.SMS.SMSType": { DataType: "String", StringValue: "Transactional" },
  },
  ...over,
});

const call = (over: Partial<SendVoiceMessageCommandInput> = {}): SendVoiceMessageCommandInput => ({
  DestinationPhoneNumber: ALICE,
  OriginationIdentity: ORIGINATION,
  MessageBody: "<speak>Critical incident: disk full.</speak>",
  MessageBodyTextType: "SSML",
  VoiceId: "JOANNA",
  TimeToLive: 300,
  ...over,
});

const email = (over: Partial<SendEmailCommandInput> = {}): SendEmailCommandInput => ({
  FromEmailAddress: "tocsin@example.com",
  Destination: { ToAddresses: ["alice@example.org"] },
  Content: {
    Simple: { Subject: { Data: "[CRITICAL] disk full" }, Body: { Text: { Data: "body" } } },
  },
  ...over,
});

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error("the request was not refused");
}

describe("SNS Publish to a phone number (AWS Query)", () => {
  it("answers a MessageId the SDK reads, and records the number, text and attributes", async () => {
    const out = await sns.send(
      new PublishCommand(
        text({
          MessageAttributes: {
            "AWS.SNS.SMS.SMSType": { DataType: "String", StringValue: "Transactional" },
            "AWS.MM.SMS.OriginationNumber": { DataType: "String", StringValue: ORIGINATION },
          },
        }),
      ),
    );

    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.sms).toEqual([
      expect.objectContaining({
        to: ALICE,
        message: "tocsin CRIT disk full (storage) Ack: http://x/a/1",
        attributes: {
          "AWS.SNS.SMS.SMSType": "Transactional",
          "AWS.MM.SMS.OriginationNumber": ORIGINATION,
        },
        status: 200,
        messageId: out.MessageId,
        handset: true,
      }),
    ]);
  });

  it.each([
    [
      "a number that is not E.164",
      text({ PhoneNumber: "07700900123" }),
      /is not valid to publish to/,
    ],
    ["a text over 1,600 characters", text({ Message: "x".repeat(1601) }), /Message too long/],
    [
      "an unknown SMS type",
      text({
        MessageAttributes: { "AWS.SNS.SMS.SMSType": { DataType: "String", StringValue: "Urgent" } },
      }),
      /SMSType/,
    ],
    [
      "a sender ID of digits only",
      text({
        MessageAttributes: { "AWS.SNS.SMS.SenderID": { DataType: "String", StringValue: "12345" } },
      }),
      /SenderID/,
    ],
  ])("refuses %s with InvalidParameterException (400)", async (_, input, message) => {
    const error = await rejection(sns.send(new PublishCommand(input)));

    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toMatch(message);
    expect(error.$fault).toBe("client");
    expect((error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(400);
  });

  it("accepts a text to an opted-out number, which never reaches the handset", async () => {
    const out = await sns.send(new PublishCommand(text({ PhoneNumber: BOB })));

    expect(out.MessageId).toBeDefined();
    expect(fake.sms[0]).toMatchObject({ handset: false, lost: "Phone number is opted out" });
  });

  it("throttles over its rate with ThrottledException (429)", async () => {
    const slow = await FakeAwsMessaging.start({ smsPerSecond: 0 });
    const client = new SNSClient({ ...slow.clientConfig(), maxAttempts: 1 });
    try {
      const error = await rejection(client.send(new PublishCommand(text())));
      expect(error).toBeInstanceOf(ThrottledException);
      expect((error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(429);
    } finally {
      client.destroy();
      await slow.close();
    }
  });

  it("delivers only to verified numbers in the SMS sandbox", async () => {
    const sandbox = await FakeAwsMessaging.start({ sandboxVerified: [ALICE] });
    const client = new SNSClient({ ...sandbox.clientConfig(), maxAttempts: 1 });
    try {
      await client.send(new PublishCommand(text()));
      await client.send(new PublishCommand(text({ PhoneNumber: BOB })));
      expect(sandbox.sms.map((s) => [s.to, s.handset])).toEqual([
        [ALICE, true],
        [BOB, false],
      ]);
    } finally {
      client.destroy();
      await sandbox.close();
    }
  });

  it("injects a 500 as InternalErrorException, a server fault", async () => {
    fake.failNext("sns", { status: 500 });

    const error = await rejection(sns.send(new PublishCommand(text())));

    expect(error).toBeInstanceOf(InternalErrorException);
    expect(error.$fault).toBe("server");
  });
});

describe("End User Messaging SendVoiceMessage (AWS JSON 1.0)", () => {
  it("answers a MessageId and records the call", async () => {
    const out = await voice.send(new SendVoiceMessageCommand(call()));

    expect(out.MessageId).toBeDefined();
    expect(fake.calls).toEqual([
      expect.objectContaining({
        to: ALICE,
        from: ORIGINATION,
        bodyType: "SSML",
        voiceId: "JOANNA",
        timeToLive: 300,
        messageId: out.MessageId,
      }),
    ]);
  });

  it.each([
    [
      "a number that is not E.164",
      call({ DestinationPhoneNumber: "447700900123" }),
      "INVALID_PARAMETER",
      "DestinationPhoneNumber",
    ],
    [
      "SSML over 6,000 characters",
      call({ MessageBody: `<speak>${"a".repeat(6000)}</speak>` }),
      "MAXIMUM_SIZE_EXCEEDED",
      "MessageBody",
    ],
    [
      "text over 3,000 characters",
      call({ MessageBodyTextType: "TEXT", MessageBody: "a".repeat(3001) }),
      "MAXIMUM_SIZE_EXCEEDED",
      "MessageBody",
    ],
    [
      "SSML that is not well-formed",
      call({ MessageBody: "<speak>Disk <b>full</speak>" }),
      "INVALID_PARAMETER",
      "MessageBody",
    ],
    [
      "an unescaped ampersand in SSML",
      call({ MessageBody: "<speak>R&D down</speak>" }),
      "INVALID_PARAMETER",
      "MessageBody",
    ],
    ["an unknown voice", call({ VoiceId: "HAL" as never }), "INVALID_PARAMETER", "VoiceId"],
  ])(
    "refuses %s with ValidationException, its Reason and Fields",
    async (_, input, reason, field) => {
      const error = await rejection(voice.send(new SendVoiceMessageCommand(input)));

      expect(error).toBeInstanceOf(ValidationException);
      expect(error.Reason).toBe(reason);
      expect(error.Fields).toEqual([{ Name: field, Message: expect.any(String) }]);
    },
  );

  it("refuses an origination identity the account does not have with ResourceNotFoundException", async () => {
    const error = await rejection(
      voice.send(new SendVoiceMessageCommand(call({ OriginationIdentity: "+15550000000" }))),
    );

    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.ResourceId).toBe("+15550000000");
  });

  it("stops calling a destination after its daily limit with ServiceQuotaExceededException", async () => {
    await voice.send(new SendVoiceMessageCommand(call()));
    await voice.send(new SendVoiceMessageCommand(call()));

    const error = await rejection(voice.send(new SendVoiceMessageCommand(call())));

    expect(error).toBeInstanceOf(ServiceQuotaExceededException);
    expect(error.Reason).toBe("DAILY_DESTINATION_CALL_LIMIT");
    await voice.send(new SendVoiceMessageCommand(call({ DestinationPhoneNumber: BOB })));
  });

  it("injects throttling, 5xx and access denied as their classes", async () => {
    fake.failNext("voice", { status: 400, code: "ThrottlingException" });
    fake.failNext("voice", { status: 500 });
    fake.failNext("voice", { status: 400, code: "AccessDeniedException" });

    expect(await rejection(voice.send(new SendVoiceMessageCommand(call())))).toBeInstanceOf(
      ThrottlingException,
    );
    const fault = await rejection(voice.send(new SendVoiceMessageCommand(call())));
    expect(fault).toBeInstanceOf(VoiceInternalServerException);
    expect(fault.$fault).toBe("server");
    expect(await rejection(voice.send(new SendVoiceMessageCommand(call())))).toBeInstanceOf(
      AccessDeniedException,
    );
  });
});

describe("SES v2 SendEmail (REST-JSON)", () => {
  it("answers a MessageId and records sender, recipients, subject and text", async () => {
    const out = await ses.send(new SendEmailCommand(email()));

    expect(out.MessageId).toBeDefined();
    expect(fake.emails).toEqual([
      expect.objectContaining({
        from: "tocsin@example.com",
        to: ["alice@example.org"],
        subject: "[CRITICAL] disk full",
        text: "body",
        messageId: out.MessageId,
      }),
    ]);
  });

  it("refuses an unverified sender with MessageRejected naming it", async () => {
    const error = await rejection(
      ses.send(new SendEmailCommand(email({ FromEmailAddress: "someone@elsewhere.com" }))),
    );

    expect(error).toBeInstanceOf(MessageRejected);
    expect(error.message).toMatch(/not verified.*someone@elsewhere\.com/);
  });

  it("in the sandbox, refuses an unverified recipient with MessageRejected", async () => {
    const sandbox = await FakeAwsMessaging.start({
      emailIdentities: ["tocsin@example.com"],
      emailSandbox: true,
    });
    const client = new SESv2Client({ ...sandbox.clientConfig(), maxAttempts: 1 });
    try {
      const error = await rejection(client.send(new SendEmailCommand(email())));
      expect(error).toBeInstanceOf(MessageRejected);
      expect(error.message).toMatch(/alice@example\.org/);
    } finally {
      client.destroy();
      await sandbox.close();
    }
  });

  it("refuses more than 50 recipients with BadRequestException", async () => {
    const to = Array.from({ length: 51 }, (_, i) => `p${i}@example.org`);

    const error = await rejection(
      ses.send(new SendEmailCommand(email({ Destination: { ToAddresses: to } }))),
    );

    expect(error).toBeInstanceOf(BadRequestException);
  });

  it("injects 429 as TooManyRequestsException and 500 as a server fault", async () => {
    fake.failNext("email", { status: 429, code: "TooManyRequestsException", retryAfter: 2 });
    fake.failNext("email", { status: 503, code: "ServiceUnavailable" });

    expect(await rejection(ses.send(new SendEmailCommand(email())))).toBeInstanceOf(
      TooManyRequestsException,
    );
    const fault = await rejection(ses.send(new SendEmailCommand(email())));
    expect(fault).toBeInstanceOf(SESv2ServiceException);
    expect(fault.$fault).toBe("server");
  });
});

describe("signatures and faults of the connection", () => {
  it("refuses a request signed with another key, as SignatureDoesNotMatch (403)", async () => {
    const forged = new SNSClient({
      ...fake.clientConfig(),
      credentials: { accessKeyId: fake.credentials.accessKeyId, secretAccessKey: "wrong" },
      maxAttempts: 1,
    });
    try {
      const error = await rejection(forged.send(new PublishCommand(text())));
      expect(error).toBeInstanceOf(SNSServiceException);
      expect(error.name).toBe("SignatureDoesNotMatch");
      expect((error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(403);
      expect(fake.sms).toEqual([]);
      expect(fake.refused).toEqual([{ path: "/", status: 403, code: "SignatureDoesNotMatch" }]);
    } finally {
      forged.destroy();
    }
  });

  it("refuses a request without a signature", async () => {
    const response = await fetch(`${fake.url}/v2/email/outbound-emails`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(email()),
    });

    expect(response.status).toBe(403);
    expect(response.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationToken");
    expect(fake.emails).toEqual([]);
  });

  it("drops the connection or hangs when told, as a network fault for the SDK", async () => {
    const impatient = new SNSClient({
      ...fake.clientConfig(),
      maxAttempts: 1,
      requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
    });
    try {
      fake.failNext("sns", { drop: true });
      fake.failNext("sns", { hang: true });
      const dropped = await rejection(impatient.send(new PublishCommand(text())));
      expect((dropped.$metadata as { httpStatusCode?: number }).httpStatusCode).toBeUndefined();
      expect(isServiceFault(dropped)).toBe(true);
      const hung = await rejection(impatient.send(new PublishCommand(text())));
      expect(hung.name).toBe("TimeoutError");
      expect(isServiceFault(hung)).toBe(true);
      expect(fake.sms.map((s) => s.status)).toEqual([0, 0]);
    } finally {
      impatient.destroy();
    }
  });

  it("tells a waiting test of each request as it is answered", async () => {
    const seen = fake.waitFor("voice", (c) => c.to === BOB);

    await voice.send(new SendVoiceMessageCommand(call({ DestinationPhoneNumber: BOB })));

    expect((await seen).messageId).toBeDefined();
  });
});

import { createHash, createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

/*
 * Amazon SNS (SMS by Publish with PhoneNumber), AWS End User Messaging SMS and Voice v2
 * (SendVoiceMessage) and Amazon SES v2 (SendEmail) on 127.0.0.1, in the three wire protocols
 * the SDK speaks to them, checked against the installed clients' serializers and error parsers
 * (test/integration/notifiers/fake-aws-messaging.test.ts makes the real SDK parse every answer):
 * - SNS, AWS Query: form POST `/` `Action=Publish&Version=2010-03-31&PhoneNumber&Message&
 *   MessageAttributes.entry.N.{Name,Value.DataType,Value.StringValue}`, XML answer
 *   `PublishResponse/PublishResult/MessageId`, errors `ErrorResponse/Error/{Type,Code,Message}`
 *   (codes of the model's awsQueryError traits: InvalidParameter 400, Throttled 429, ...).
 * - EUM, AWS JSON 1.0: `X-Amz-Target: PinpointSMSVoiceV2.SendVoiceMessage`, answer
 *   `{"MessageId"}`, errors `{"__type", "Message", "Reason", "Fields"}`.
 * - SES v2, REST-JSON: `POST /v2/email/outbound-emails`, answer `{"MessageId"}`, errors by the
 *   `x-amzn-ErrorType` header with `{"message"}`.
 * Every request must carry a SigV4 signature by the fake's key for its service (sns,
 * sms-voice, ses), recomputed here: unsigned or forged requests are 403.
 *
 * SMS refusals, as SNS makes them: a PhoneNumber that is not E.164 is InvalidParameter
 * ("... is not valid to publish to"), as are a message over 1,600 characters, an SMSType other
 * than Promotional/Transactional and a malformed sender ID. Publish's error model has no
 * opt-out or sandbox error (OptedOut belongs to CreateSMSSandboxPhoneNumber): an SMS to an
 * opted-out number, or to a number not verified while the account is in the SMS sandbox, is
 * accepted with a MessageId and never reaches the handset (SNS's delivery log says "Phone
 * number is opted out"). The fake records it with `handset: false` and the reason, so that a
 * test sees what a person would: nothing.
 */

export type AwsMessagingService = "sns" | "voice" | "email";

/** An SMS SNS accepted or refused. */
export interface FakeSms {
  /** performance.now() when the request arrived, in ms. */
  at: number;
  to: string;
  message: string;
  attributes: Record<string, string>;
  /** The status the fake answered (0 while it hangs or after it dropped the connection). */
  status: number;
  /** The SNS error code it answered with, if any. */
  code?: string;
  messageId?: string;
  /** Whether the text would reach the handset (accepted and neither opted out nor sandboxed). */
  handset: boolean;
  /** Why an accepted SMS does not reach the handset. */
  lost?: string;
}

/** A voice call End User Messaging accepted or refused. */
export interface FakeCall {
  /** performance.now() when the request arrived, in ms. */
  at: number;
  to: string;
  from: string;
  body: string;
  bodyType: string;
  voiceId: string | undefined;
  timeToLive: number | undefined;
  status: number;
  code?: string;
  reason?: string;
  messageId?: string;
}

/** An email SES accepted or refused. */
export interface FakeEmail {
  /** performance.now() when the request arrived, in ms. */
  at: number;
  from: string;
  to: string[];
  subject: string;
  text: string;
  status: number;
  code?: string;
  messageId?: string;
}

/** How the next requests to a service fail (before any of the fake's own checks). */
export interface AwsFailure {
  /** The HTTP status; default 500. */
  status?: number;
  /** The error code (SNS: InternalError, Throttled; EUM: ThrottlingException; SES: TooManyRequestsException). */
  code?: string;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** Never answer (the client's timeout ends it; close() ends it otherwise). */
  hang?: boolean;
  /** Close the socket without answering. */
  drop?: boolean;
  /** How many requests in a row fail this way; default 1. */
  times?: number;
}

export interface FakeAwsMessagingOptions {
  region?: string;
  /** SMS sandbox: only these destinations receive texts; absent: out of the sandbox. */
  sandboxVerified?: readonly string[];
  /** Numbers that replied STOP: SNS accepts texts to them, which never arrive. */
  optedOut?: readonly string[];
  /** SMS per second before Throttled (SNS's default transactional quota is 20). */
  smsPerSecond?: number;
  /** The account's voice origination identities (phone numbers, their ids or ARNs, pools). */
  voiceOriginations?: readonly string[];
  /** Calls per destination per UTC day before DAILY_DESTINATION_CALL_LIMIT. */
  dailyCallsPerDestination?: number;
  /** SES identities (addresses or domains) verified in the region. */
  emailIdentities?: readonly string[];
  /** SES sandbox: recipients must be verified identities too. */
  emailSandbox?: boolean;
}

const SNS_XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/";
const E164 = /^\+[1-9]\d{6,14}$/;
/** Amazon Polly voices End User Messaging reads with (the SDK's VoiceId enum, a sample). */
const VOICES = new Set([
  "AMY",
  "BRIAN",
  "EMMA",
  "JOANNA",
  "JOEY",
  "JUSTIN",
  "KENDRA",
  "KIMBERLY",
  "MATTHEW",
  "NICOLE",
  "RAVEENA",
  "RUSSELL",
  "SALLI",
]);

/** Records what each service received; failures to inject come first, in order. */
export class FakeAwsMessaging {
  readonly sms: FakeSms[] = [];
  readonly calls: FakeCall[] = [];
  readonly emails: FakeEmail[] = [];
  /** Requests refused before reaching a service (bad signature, unknown route). */
  readonly refused: Array<{ path: string; status: number; code: string }> = [];
  readonly credentials = { accessKeyId: "AKIDFAKEMESSAGING", secretAccessKey: randomUUID() };
  readonly region: string;
  private readonly events = new EventEmitter();
  private readonly failures = new Map<AwsMessagingService, Array<AwsFailure & { times: number }>>();
  private smsWindow = { second: 0, count: 0 };
  private readonly callsPerDay = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    private readonly options: FakeAwsMessagingOptions,
  ) {
    this.region = options.region ?? "eu-west-2";
  }

  static async start(options: FakeAwsMessagingOptions = {}): Promise<FakeAwsMessaging> {
    let fake: FakeAwsMessaging | undefined;
    const server = createServer((req, res) => void fake!.handle(req, res));
    fake = new FakeAwsMessaging(server, options);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** What an SDK client needs to reach this fake: spread it into the client's configuration. */
  clientConfig() {
    return { endpoint: this.url, region: this.region, credentials: this.credentials };
  }

  failNext(service: AwsMessagingService, failure: AwsFailure): void {
    const queue = this.failures.get(service) ?? [];
    queue.push({ ...failure, times: failure.times ?? 1 });
    this.failures.set(service, queue);
  }

  /** Resolves once a request to `service` matching `predicate` was answered (or was recorded before). */
  waitFor<S extends AwsMessagingService>(
    service: S,
    predicate: (record: RecordOf<S>) => boolean = () => true,
  ): Promise<RecordOf<S>> {
    const list = this.list(service) as RecordOf<S>[];
    const found = list.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const listener = (record: RecordOf<S>) => {
        if (!predicate(record)) return;
        this.events.off(service, listener);
        resolve(record);
      };
      this.events.on(service, listener);
    });
  }

  /** Forgets what was received, pending failures, counters. */
  reset(): void {
    this.sms.length = 0;
    this.calls.length = 0;
    this.emails.length = 0;
    this.refused.length = 0;
    this.failures.clear();
    this.callsPerDay.clear();
    this.smsWindow = { second: 0, count: 0 };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private list(service: AwsMessagingService): unknown[] {
    return service === "sns" ? this.sms : service === "voice" ? this.calls : this.emails;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const target = header(req, "x-amz-target");
    const service: AwsMessagingService | undefined =
      req.method === "POST" && path === "/v2/email/outbound-emails"
        ? "email"
        : req.method === "POST" && path === "/" && target?.startsWith("PinpointSMSVoiceV2.")
          ? "voice"
          : req.method === "POST" && path === "/" && !target
            ? "sns"
            : undefined;
    if (!service) {
      this.refused.push({ path, status: 404, code: "UnknownOperation" });
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: `no operation at ${req.method} ${path}` }));
      return;
    }
    const answer = ANSWERS[service];
    const signing = this.checkSignature(req, body, SIGNING_NAMES[service]);
    if (signing) {
      this.refused.push({ path, status: 403, code: signing.code });
      answer.error(res, 403, signing.code, signing.message);
      return;
    }
    const failure = this.takeFailure(service);
    const record = (r: { status: number; code?: string }) => (status: number, code?: string) => {
      r.status = status;
      if (code) r.code = code;
    };
    if (service === "sns")
      return this.publish(new URLSearchParams(body.toString("utf8")), res, failure, record);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(body.toString("utf8") || "{}") as Record<string, unknown>;
    } catch {
      return answer.error(
        res,
        400,
        service === "voice" ? "ValidationException" : "BadRequestException",
        "the body is not JSON",
      );
    }
    if (service === "voice") return this.sendVoice(json, res, failure, record);
    return this.sendEmail(json, res, failure, record);
  }

  private takeFailure(service: AwsMessagingService): (AwsFailure & { times: number }) | undefined {
    const queue = this.failures.get(service);
    const failure = queue?.[0];
    if (!failure || !queue) return undefined;
    failure.times -= 1;
    if (failure.times <= 0) queue.shift();
    return failure;
  }

  /** Answers an injected failure; true when it did (or never will: hang, drop). */
  private injected(
    service: AwsMessagingService,
    failure: AwsFailure | undefined,
    res: ServerResponse,
    mark: (status: number, code?: string) => void,
  ): boolean {
    if (!failure) return false;
    if (failure.hang) {
      mark(0);
      return true;
    }
    if (failure.drop) {
      mark(0);
      res.socket?.destroy();
      return true;
    }
    const status = failure.status ?? 500;
    const code = failure.code ?? DEFAULT_FAULT[service];
    mark(status, code);
    const headers: Record<string, string> = {};
    if (failure.retryAfter !== undefined) headers["retry-after"] = String(failure.retryAfter);
    ANSWERS[service].error(res, status, code, "injected by the test", headers);
    return true;
  }

  private publish(
    form: URLSearchParams,
    res: ServerResponse,
    failure: AwsFailure | undefined,
    record: (r: FakeSms) => (status: number, code?: string) => void,
  ): unknown {
    if (form.get("Action") !== "Publish" || form.get("Version") !== "2010-03-31") {
      return ANSWERS.sns.error(
        res,
        400,
        "InvalidAction",
        `${form.get("Action")} is not served here`,
      );
    }
    const attributes: Record<string, string> = {};
    for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
      const name = form.get(`MessageAttributes.entry.${i}.Name`)!;
      attributes[name] = form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? "";
    }
    const sms: FakeSms = {
      at: performance.now(),
      to: form.get("PhoneNumber") ?? "",
      message: form.get("Message") ?? "",
      attributes,
      status: 200,
      handset: false,
    };
    this.sms.push(sms);
    const mark = record(sms);
    const done = () => this.events.emit("sns", sms);
    if (this.injected("sns", failure, res, mark)) return void done();
    const refuse = (status: number, code: string, message: string) => {
      mark(status, code);
      ANSWERS.sns.error(res, status, code, message);
      done();
    };
    if (form.has("TopicArn") || form.has("TargetArn"))
      return refuse(
        400,
        "InvalidParameter",
        "Invalid parameter: this fake serves SMS to a PhoneNumber only",
      );
    if (!E164.test(sms.to))
      return refuse(
        400,
        "InvalidParameter",
        `Invalid parameter: PhoneNumber Reason: ${sms.to} is not valid to publish to`,
      );
    if (!sms.message) return refuse(400, "InvalidParameter", "Invalid parameter: Empty message");
    if ([...sms.message].length > 1600)
      return refuse(400, "InvalidParameter", "Invalid parameter: Message too long");
    const type = attributes["AWS.SNS.SMS.SMSType"];
    if (type !== undefined && type !== "Transactional" && type !== "Promotional")
      return refuse(
        400,
        "InvalidParameter",
        "Invalid parameter: MessageAttributes AWS.SNS.SMS.SMSType",
      );
    const sender = attributes["AWS.SNS.SMS.SenderID"];
    if (sender !== undefined && !/^(?=.*[A-Za-z])[A-Za-z0-9-]{1,11}$/.test(sender))
      return refuse(
        400,
        "InvalidParameter",
        "Invalid parameter: MessageAttributes AWS.SNS.SMS.SenderID",
      );
    const origination = attributes["AWS.MM.SMS.OriginationNumber"];
    if (origination !== undefined && !E164.test(origination))
      return refuse(
        400,
        "InvalidParameter",
        "Invalid parameter: MessageAttributes AWS.MM.SMS.OriginationNumber",
      );
    const second = Math.floor(Date.now() / 1000);
    if (this.smsWindow.second !== second) this.smsWindow = { second, count: 0 };
    this.smsWindow.count += 1;
    if (this.smsWindow.count > (this.options.smsPerSecond ?? 20))
      return refuse(429, "Throttled", "Rate exceeded");

    sms.messageId = randomUUID();
    if (this.options.optedOut?.includes(sms.to)) sms.lost = "Phone number is opted out";
    else if (this.options.sandboxVerified && !this.options.sandboxVerified.includes(sms.to))
      sms.lost = "destination not verified in the SMS sandbox";
    sms.handset = !sms.lost;
    res.writeHead(200, { "content-type": "text/xml" });
    res.end(
      `<PublishResponse xmlns="${SNS_XMLNS}"><PublishResult><MessageId>${sms.messageId}</MessageId></PublishResult>` +
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
    );
    done();
  }

  private sendVoice(
    input: Record<string, unknown>,
    res: ServerResponse,
    failure: AwsFailure | undefined,
    record: (r: FakeCall) => (status: number, code?: string) => void,
  ): unknown {
    const text = (v: unknown) => (typeof v === "string" ? v : "");
    const call: FakeCall = {
      at: performance.now(),
      to: text(input.DestinationPhoneNumber),
      from: text(input.OriginationIdentity),
      body: text(input.MessageBody),
      bodyType: text(input.MessageBodyTextType) || "TEXT",
      voiceId: typeof input.VoiceId === "string" ? input.VoiceId : undefined,
      timeToLive: typeof input.TimeToLive === "number" ? input.TimeToLive : undefined,
      status: 200,
    };
    this.calls.push(call);
    const mark = record(call);
    const done = () => this.events.emit("voice", call);
    if (this.injected("voice", failure, res, mark)) return void done();
    const refuse = (code: string, message: string, extra: Record<string, unknown> = {}) => {
      mark(400, code);
      if (typeof extra.Reason === "string") call.reason = extra.Reason;
      ANSWERS.voice.error(res, 400, code, message, {}, extra);
      done();
    };
    const invalid = (field: string, reason: string, message: string) =>
      refuse("ValidationException", message, {
        Reason: reason,
        Fields: [{ Name: field, Message: message }],
      });
    if (!call.to)
      return invalid(
        "DestinationPhoneNumber",
        "MISSING_PARAMETER",
        "DestinationPhoneNumber is required",
      );
    if (!E164.test(call.to))
      return invalid(
        "DestinationPhoneNumber",
        "INVALID_PARAMETER",
        "DestinationPhoneNumber is not in E.164 format",
      );
    if (!call.from)
      return invalid("OriginationIdentity", "MISSING_PARAMETER", "OriginationIdentity is required");
    if (!this.options.voiceOriginations?.includes(call.from))
      return refuse(
        "ResourceNotFoundException",
        `Origination identity ${call.from} does not exist`,
        {
          ResourceType: "phone-number",
          ResourceId: call.from,
        },
      );
    if (!call.body) return invalid("MessageBody", "MISSING_PARAMETER", "MessageBody is required");
    if (call.bodyType !== "TEXT" && call.bodyType !== "SSML")
      return invalid(
        "MessageBodyTextType",
        "INVALID_PARAMETER",
        "MessageBodyTextType must be TEXT or SSML",
      );
    const limit = call.bodyType === "SSML" ? 6000 : 3000;
    if ([...call.body].length > limit)
      return invalid(
        "MessageBody",
        "MAXIMUM_SIZE_EXCEEDED",
        `MessageBody is longer than ${limit} characters`,
      );
    if (call.bodyType === "SSML" && !wellFormedSsml(call.body))
      return invalid("MessageBody", "INVALID_PARAMETER", "MessageBody is not well-formed SSML");
    if (call.voiceId !== undefined && !VOICES.has(call.voiceId))
      return invalid(
        "VoiceId",
        "INVALID_PARAMETER",
        `VoiceId ${call.voiceId} is not a valid voice`,
      );
    if (call.timeToLive !== undefined && (call.timeToLive < 5 || call.timeToLive > 259_200))
      return invalid(
        "TimeToLive",
        "INVALID_PARAMETER",
        "TimeToLive must be between 5 and 259200 seconds",
      );
    const day = `${new Date().toISOString().slice(0, 10)}#${call.to}`;
    const made = (this.callsPerDay.get(day) ?? 0) + 1;
    if (made > (this.options.dailyCallsPerDestination ?? 10)) {
      return refuse(
        "ServiceQuotaExceededException",
        "Daily call limit reached for the destination",
        {
          Reason: "DAILY_DESTINATION_CALL_LIMIT",
        },
      );
    }
    this.callsPerDay.set(day, made);
    call.messageId = randomUUID();
    res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
    res.end(JSON.stringify({ MessageId: call.messageId }));
    done();
  }

  private sendEmail(
    input: Record<string, unknown>,
    res: ServerResponse,
    failure: AwsFailure | undefined,
    record: (r: FakeEmail) => (status: number, code?: string) => void,
  ): unknown {
    const destination = (input.Destination ?? {}) as {
      ToAddresses?: unknown;
      CcAddresses?: unknown;
      BccAddresses?: unknown;
    };
    const addresses = (v: unknown) =>
      Array.isArray(v) ? v.filter((a): a is string => typeof a === "string") : [];
    const simple = ((input.Content as { Simple?: unknown } | undefined)?.Simple ?? {}) as {
      Subject?: { Data?: unknown };
      Body?: { Text?: { Data?: unknown }; Html?: { Data?: unknown } };
    };
    const email: FakeEmail = {
      at: performance.now(),
      from: typeof input.FromEmailAddress === "string" ? input.FromEmailAddress : "",
      to: addresses(destination.ToAddresses),
      subject: typeof simple.Subject?.Data === "string" ? simple.Subject.Data : "",
      text: typeof simple.Body?.Text?.Data === "string" ? simple.Body.Text.Data : "",
      status: 200,
    };
    this.emails.push(email);
    const mark = record(email);
    const done = () => this.events.emit("email", email);
    if (this.injected("email", failure, res, mark)) return void done();
    const refuse = (status: number, code: string, message: string) => {
      mark(status, code);
      ANSWERS.email.error(res, status, code, message);
      done();
    };
    const all = [
      ...email.to,
      ...addresses(destination.CcAddresses),
      ...addresses(destination.BccAddresses),
    ];
    if (!email.from) return refuse(400, "BadRequestException", "FromEmailAddress is required");
    if (all.length === 0)
      return refuse(400, "BadRequestException", "Missing required field Destination");
    if (all.length > 50) return refuse(400, "BadRequestException", "Recipient count exceeds 50");
    if (!simple.Subject || (!simple.Body?.Text && !simple.Body?.Html))
      return refuse(400, "BadRequestException", "Simple content needs a Subject and a Body");
    const verified = (address: string) => {
      const identities = this.options.emailIdentities ?? [];
      return identities.includes(address) || identities.includes(address.split("@")[1] ?? "");
    };
    const unverified = [email.from, ...(this.options.emailSandbox ? all : [])].filter(
      (a) => !verified(a),
    );
    if (unverified.length > 0) {
      return refuse(
        400,
        "MessageRejected",
        `Email address is not verified. The following identities failed the check in region ${this.region.toUpperCase()}: ${unverified.join(", ")}`,
      );
    }
    email.messageId = `0100${randomUUID().replace(/-/g, "")}-000000`;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ MessageId: email.messageId }));
    done();
  }

  /**
   * Recomputes the request's SigV4 signature (AWS4-HMAC-SHA256 over the canonical request,
   * scope date/region/service/aws4_request) with the fake's secret key.
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
   */
  private checkSignature(
    req: IncomingMessage,
    body: Buffer,
    signingName: string,
  ): { code: string; message: string } | undefined {
    const authorization = header(req, "authorization");
    const amzDate = header(req, "x-amz-date");
    if (!authorization || !amzDate)
      return {
        code: "MissingAuthenticationToken",
        message: "Request is missing Authentication Token",
      };
    const match =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
        authorization,
      );
    if (!match)
      return { code: "IncompleteSignature", message: "Authorization header is not SigV4" };
    const [, keyId, date, region, service, signedHeaders, signature] = match as unknown as string[];
    if (keyId !== this.credentials.accessKeyId)
      return {
        code: "InvalidClientTokenId",
        message: "The security token included in the request is invalid",
      };
    if (region !== this.region || service !== signingName || !amzDate.startsWith(date!))
      return {
        code: "SignatureDoesNotMatch",
        message: `Credential should be scoped to ${this.region}/${signingName}`,
      };
    const payloadHash = createHash("sha256").update(body).digest("hex");
    const claimed = header(req, "x-amz-content-sha256");
    if (claimed && claimed !== payloadHash)
      return {
        code: "SignatureDoesNotMatch",
        message: "The provided x-amz-content-sha256 does not match",
      };
    const names = signedHeaders!.split(";");
    if (!names.includes("host") || !names.includes("x-amz-date"))
      return { code: "SignatureDoesNotMatch", message: "host and x-amz-date must be signed" };
    const [path, query = ""] = (req.url ?? "/").split("?");
    const canonical = [
      req.method,
      path,
      query.split("&").filter(Boolean).sort().join("&"),
      ...names.map((name) => `${name}:${(header(req, name) ?? "").trim().replace(/\s+/g, " ")}`),
      "",
      signedHeaders,
      payloadHash,
    ].join("\n");
    const scope = `${date}/${region}/${service}/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonical)].join("\n");
    let key: Buffer = Buffer.from(`AWS4${this.credentials.secretAccessKey}`, "utf8");
    for (const part of [date!, region!, service!, "aws4_request"]) key = hmac(key, part);
    const expected = Buffer.from(hmac(key, toSign).toString("hex"), "utf8");
    const given = Buffer.from(signature!, "utf8");
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      return {
        code: "SignatureDoesNotMatch",
        message: "The request signature we calculated does not match",
      };
    return undefined;
  }
}

type RecordOf<S extends AwsMessagingService> = S extends "sns"
  ? FakeSms
  : S extends "voice"
    ? FakeCall
    : FakeEmail;

const SIGNING_NAMES: Record<AwsMessagingService, string> = {
  sns: "sns",
  voice: "sms-voice",
  email: "ses",
};
const DEFAULT_FAULT: Record<AwsMessagingService, string> = {
  sns: "InternalError",
  voice: "InternalServerException",
  email: "InternalFailure",
};

type ErrorWriter = (
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
  extra?: Record<string, unknown>,
) => void;

const ANSWERS: Record<AwsMessagingService, { error: ErrorWriter }> = {
  sns: {
    error: (res, status, code, message, headers = {}) => {
      res.writeHead(status, { "content-type": "text/xml", ...headers });
      res.end(
        `<ErrorResponse xmlns="${SNS_XMLNS}"><Error><Type>${status >= 500 ? "Receiver" : "Sender"}</Type>` +
          `<Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error>` +
          `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
    },
  },
  voice: {
    error: (res, status, code, message, headers = {}, extra = {}) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.0", ...headers });
      res.end(
        JSON.stringify({
          __type: `com.amazonaws.pinpointsmsvoicev2#${code}`,
          Message: message,
          ...extra,
        }),
      );
    },
  },
  email: {
    error: (res, status, code, message, headers = {}) => {
      res.writeHead(status, {
        "content-type": "application/json",
        "x-amzn-errortype": code,
        ...headers,
      });
      res.end(JSON.stringify({ message }));
    },
  },
};

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac("sha256", key).update(text, "utf8").digest();
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A `<speak>` document whose tags nest and close (what Polly refuses otherwise). */
export function wellFormedSsml(body: string): boolean {
  const trimmed = body.trim();
  if (!trimmed.startsWith("<speak") || !trimmed.endsWith("</speak>")) return false;
  if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(trimmed)) return false;
  const open: string[] = [];
  for (const tag of trimmed.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^<>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = tag;
    if (selfClosing) continue;
    if (!closing) open.push(name!);
    else if (open.pop() !== name) return false;
  }
  return open.length === 0 && !/<(?![/a-zA-Z])/.test(trimmed);
}

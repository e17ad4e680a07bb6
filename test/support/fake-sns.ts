import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One Publish the fake received, whatever it answered. */
export interface SnsPublish {
  topicArn: string | undefined;
  subject: string | undefined;
  message: string | undefined;
  /** The status the fake answered. */
  status: number;
}

/** How the next requests fail: SNS's error code and HTTP status. */
export interface SnsFailure {
  status: number;
  /** e.g. InternalError (500), Throttled (400 with a throttling code), AuthorizationError (403). */
  code: string;
  /** How many requests in a row fail this way; default 1. */
  times?: number;
}

const XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/";

/**
 * A stand-in for Amazon SNS's Publish on 127.0.0.1, in the protocol the SDK speaks to it (AWS
 * Query: a form-encoded POST, an XML answer; https://docs.aws.amazon.com/sns/latest/api/API_Publish.html).
 * It refuses what SNS refuses for an email topic: an unknown topic (NotFound, 404), a subject
 * over 100 characters or with a line break, a message over 256 KiB (InvalidParameter, 400).
 * Failures to inject come first, in order.
 */
export class FakeSns {
  readonly publishes: SnsPublish[] = [];
  private failures: Array<Required<SnsFailure>> = [];
  private ids = 0;

  private constructor(
    private readonly server: Server,
    private readonly topics: ReadonlySet<string>,
  ) {}

  static async start(topics: readonly string[]): Promise<FakeSns> {
    let fake: FakeSns | undefined;
    const server = createServer((req, res) => void fake!.handle(req, res));
    fake = new FakeSns(server, new Set(topics));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  failNext(failure: SnsFailure): void {
    this.failures.push({ times: 1, ...failure });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
    const answer = (status: number, body: string) => {
      res.writeHead(status, { "content-type": "text/xml" });
      res.end(body);
    };
    if (req.method !== "POST" || form.get("Action") !== "Publish") {
      return answer(400, errorXml("Sender", "InvalidAction", "only Publish is served here"));
    }
    const publish: SnsPublish = {
      topicArn: form.get("TopicArn") ?? undefined,
      subject: form.get("Subject") ?? undefined,
      message: form.get("Message") ?? undefined,
      status: 200,
    };
    this.publishes.push(publish);
    const refuse = (status: number, type: string, code: string, message: string) => {
      publish.status = status;
      answer(status, errorXml(type, code, message));
    };
    const failure = this.failures[0];
    if (failure) {
      failure.times -= 1;
      if (failure.times <= 0) this.failures.shift();
      const type = failure.status >= 500 ? "Receiver" : "Sender";
      return refuse(failure.status, type, failure.code, "injected by the test");
    }
    if (!publish.topicArn || !this.topics.has(publish.topicArn)) {
      return refuse(404, "Sender", "NotFound", "Topic does not exist");
    }
    const subject = publish.subject ?? "";
    if (subject.length > 100 || /[\r\n]/.test(subject)) {
      return refuse(400, "Sender", "InvalidParameter", "Invalid parameter: Subject");
    }
    if (!publish.message || Buffer.byteLength(publish.message) > 262_144) {
      return refuse(400, "Sender", "InvalidParameter", "Invalid parameter: Message");
    }
    this.ids += 1;
    answer(
      200,
      `<PublishResponse xmlns="${XMLNS}"><PublishResult><MessageId>fake-${this.ids}</MessageId></PublishResult>` +
        `<ResponseMetadata><RequestId>req-${this.ids}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  }
}

function errorXml(type: string, code: string, message: string): string {
  return (
    `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${code}</Code>` +
    `<Message>${message}</Message></Error><RequestId>req-error</RequestId></ErrorResponse>`
  );
}

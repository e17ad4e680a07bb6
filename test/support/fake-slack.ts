import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

/** One Web API call the fake received, whatever it answered. */
export interface SlackCall {
  /** performance.now() when the call arrived, in ms. */
  at: number;
  /** The API method, e.g. `chat.postMessage`. */
  method: string;
  /** Arguments as the app meant them: JSON-encoded form values (blocks, …) are decoded. */
  args: Record<string, unknown>;
  /** The bearer token, or the form's `token`. */
  token: string | undefined;
  contentType: string | undefined;
  /** The HTTP status the fake answered. */
  status: number;
}

/** How the next calls of a method fail: an HTTP status (with Retry-After) or a Slack error. */
export interface SlackFailure {
  status?: number;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** A Slack error code answered as `{ok: false, error}` with HTTP 200. */
  error?: string;
  /** How many calls in a row fail this way; default 1, `Infinity` for all. */
  times?: number;
}

/** Values that WebClient JSON-encodes in a form body. */
const JSON_ARGS = new Set(["blocks", "attachments", "metadata"]);

interface PostedMessage {
  channel: string;
  ts: string;
  text: unknown;
  blocks: unknown;
  thread_ts?: string;
}

/**
 * A stand-in for Slack's Web API on 127.0.0.1 (point WebClient's `slackApiUrl` at `apiUrl`):
 * `chat.postMessage`, `chat.update` and `chat.postEphemeral`, answered the way Slack
 * documents them. Channel names (`#incidents`) get stable ids (`C…`), and like Slack,
 * `chat.update` wants the channel id and the ts of a message it knows.
 */
export class FakeSlack {
  readonly calls: SlackCall[] = [];
  /** Messages by `channelId/ts`, as last posted or updated. */
  readonly messages = new Map<string, PostedMessage>();
  private readonly channels = new Map<string, string>();
  private failures: Array<{ method: string } & SlackFailure & { times: number }> = [];
  private sequence = 0;

  private constructor(
    private readonly server: Server,
    private readonly token: string | undefined,
  ) {}

  /** `token`, when given, is the only one accepted (`invalid_auth` otherwise). */
  static async start(options: { token?: string } = {}): Promise<FakeSlack> {
    let fake: FakeSlack | undefined;
    const server = createServer((req, res) => {
      void fake!.handle(req, res);
    });
    fake = new FakeSlack(server, options.token);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return fake;
  }

  /** The base URL for WebClient's `slackApiUrl`. */
  get apiUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
  }

  /** The calls of one method, in order. */
  callsTo(method: string): SlackCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** The id the fake gives a channel name such as `#incidents` (ids map to themselves). */
  channelId(channel: string): string {
    if (/^[CGD][A-Z0-9]+$/.test(channel)) return channel;
    const name = channel.replace(/^#/, "");
    let id = this.channels.get(name);
    if (!id) {
      id =
        `C${String(this.channels.size + 1).padStart(3, "0")}${name.toUpperCase().replace(/[^A-Z0-9]/g, "")}`.slice(
          0,
          11,
        );
      this.channels.set(name, id);
    }
    return id;
  }

  /** Makes the next `times` calls of `method` fail as described. */
  failNext(method: string, failure: SlackFailure): void {
    this.failures.push({ method, ...failure, times: failure.times ?? 1 });
  }

  /** Forgets the calls so far but keeps the messages, so later calls can update them. */
  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Forgets calls, messages and pending failures. */
  reset(): void {
    this.clearCalls();
    this.messages.clear();
    this.failures = [];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const contentType = req.headers["content-type"];
    const args = parseArgs(Buffer.concat(chunks).toString("utf8"), contentType);
    const method = (req.url ?? "").replace(/^\/api\//, "").split("?")[0]!;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const token = bearer ?? (typeof args.token === "string" ? args.token : undefined);
    const call: SlackCall = { at, method, args, token, contentType, status: 200 };
    this.calls.push(call);

    const index = this.failures.findIndex((failure) => failure.method === method);
    const failure = this.failures[index];
    if (failure) {
      failure.times -= 1;
      if (failure.times <= 0) this.failures.splice(index, 1);
      if (failure.error) return send(res, 200, {}, { ok: false, error: failure.error });
      call.status = failure.status ?? 500;
      const headers: Record<string, string> = {};
      if (failure.retryAfter !== undefined) headers["retry-after"] = String(failure.retryAfter);
      if (call.status === 429) return send(res, 429, headers, { ok: false, error: "ratelimited" });
      res.writeHead(call.status, { ...headers, "content-type": "text/plain" });
      res.end("upstream connect error");
      return;
    }

    if (!token) return send(res, 200, {}, { ok: false, error: "not_authed" });
    if (this.token !== undefined && token !== this.token) {
      return send(res, 200, {}, { ok: false, error: "invalid_auth" });
    }
    send(res, 200, {}, this.answer(method, args));
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const channel = typeof args.channel === "string" ? args.channel : "";
    const hasContent = typeof args.text === "string" || Array.isArray(args.blocks);
    switch (method) {
      case "chat.postMessage": {
        if (!channel) return { ok: false, error: "channel_not_found" };
        if (!hasContent) return { ok: false, error: "no_text" };
        const id = this.channelId(channel);
        const ts = this.nextTs();
        const message: PostedMessage = { channel: id, ts, text: args.text, blocks: args.blocks };
        if (typeof args.thread_ts === "string") {
          if (!this.messages.has(`${id}/${args.thread_ts}`))
            return { ok: false, error: "thread_not_found" };
          message.thread_ts = args.thread_ts;
        }
        this.messages.set(`${id}/${ts}`, message);
        return { ok: true, channel: id, ts, message: { type: "message", ...message } };
      }
      case "chat.update": {
        if (!/^[CGD][A-Z0-9]+$/.test(channel)) return { ok: false, error: "channel_not_found" };
        const key = `${channel}/${String(args.ts)}`;
        const existing = this.messages.get(key);
        if (!existing) return { ok: false, error: "message_not_found" };
        if (!hasContent) return { ok: false, error: "no_text" };
        this.messages.set(key, { ...existing, text: args.text, blocks: args.blocks });
        return { ok: true, channel, ts: args.ts, text: args.text };
      }
      case "chat.postEphemeral": {
        if (!channel) return { ok: false, error: "channel_not_found" };
        if (typeof args.user !== "string") return { ok: false, error: "user_not_in_channel" };
        if (!hasContent) return { ok: false, error: "no_text" };
        return { ok: true, message_ts: this.nextTs() };
      }
      default:
        return { ok: false, error: "unknown_method" };
    }
  }

  private nextTs(): string {
    this.sequence += 1;
    return `${1764493800 + this.sequence}.${String(this.sequence * 100).padStart(6, "0")}`;
  }
}

/** Form bodies (what WebClient sends, JSON-encoding blocks) or JSON bodies. */
function parseArgs(text: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.startsWith("application/json")) {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    if (JSON_ARGS.has(key)) {
      try {
        args[key] = JSON.parse(value);
        continue;
      } catch {
        // kept as text, as Slack would then reject it
      }
    }
    args[key] = value;
  }
  return args;
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: unknown,
): void {
  res.writeHead(status, { ...headers, "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { blockProblems, blocksTextLength, SLACK_LIMITS } from "./slack-block-limits.js";

/** One request the fake received (a Web API call or a response_url post), whatever it answered. */
export interface SlackCall {
  /** performance.now() when the call arrived, in ms. */
  at: number;
  /** The API method, e.g. `chat.postMessage`, or `response_url` for a post to a response URL. */
  method: string;
  /** Arguments as the app meant them: JSON-encoded form values (blocks, …) are decoded. */
  args: Record<string, unknown>;
  /** The bearer token, or the form's `token`. */
  token: string | undefined;
  contentType: string | undefined;
  /**
   * The HTTP status the fake answered (0 while it hangs or holds the answer, after it dropped
   * the connection, or when the client went away before a slow or held answer).
   */
  status: number;
  /** The Slack error it answered (`invalid_blocks`, …), if any. */
  error?: string | undefined;
  /** For a response_url post: the interaction it answers (who clicked, where). */
  interaction?: { user: string; channel: string } | undefined;
}

/** Posts to response URLs go into `calls` under this method name. */
export const RESPONSE_URL = "response_url";

/**
 * How the next calls of a method misbehave: an HTTP status (with Retry-After), a Slack error,
 * no answer at all (a hang), a dropped connection, or a slow answer.
 */
export interface SlackFailure {
  status?: number;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** A Slack error code answered as `{ok: false, error}` with HTTP 200. */
  error?: string;
  /** Never answer: the request stays open until the client gives up or the fake closes. */
  hang?: boolean;
  /** Close the socket without answering (a network error for the client). */
  drop?: boolean;
  /**
   * Wait this long, then answer: normally when nothing else is given (a slow Slack), or
   * with the status or error given.
   */
  delayMs?: number;
  /** Hold the answer until this settles (then as `delayMs`: normal unless a failure is given). */
  until?: Promise<unknown>;
  /** How many calls in a row misbehave this way; default 1, `Infinity` for all. */
  times?: number;
}

/** Values that WebClient JSON-encodes in a form body. */
const JSON_ARGS = new Set(["blocks", "attachments", "metadata"]);
/** Slack's documented lifetime of a response_url: 5 uses within 30 minutes. */
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_LIFETIME_MS = 30 * 60_000;

export interface PostedMessage {
  channel: string;
  ts: string;
  text: unknown;
  blocks: unknown;
  thread_ts?: string;
}

interface ResponseUrl {
  user: string;
  channel: string;
  issuedAt: number;
  uses: number;
}

/**
 * A stand-in for Slack on 127.0.0.1: the Web API (point WebClient's `slackApiUrl` at `apiUrl`)
 * with `chat.postMessage`, `chat.update`, `chat.postEphemeral` and `conversations.open` (a
 * member's `D…` DM channel; `user_not_found`, `missing_scope` without im:write; posts to a
 * DM it has not opened are `channel_not_found`), Slack's one post per second per channel on
 * request (`limitPostsPerChannel`: 429 with Retry-After), and interactions' response
 * URLs (`responseUrl()` mints one), answered the way Slack documents them, refusals included:
 * `invalid_blocks` for any block over Block Kit's limits (see slack-block-limits.ts),
 * `msg_blocks_too_long`, `msg_too_long` (chat.update), a truncated `text` past 40,000
 * characters with Slack's `message_truncated` warning, `invalid_auth`/`not_authed`,
 * `channel_not_found`, `not_in_channel`, `ratelimited` (HTTP 429 + Retry-After, through
 * `failNext`). Channel names (`#incidents`) get stable ids (`C…`), and like Slack,
 * `chat.update` wants the channel id and the ts of a message it knows.
 */
export class FakeSlack {
  readonly calls: SlackCall[] = [];
  /** Messages by `channelId/ts`, as last posted or updated. */
  readonly messages = new Map<string, PostedMessage>();
  private readonly channels = new Map<string, string>();
  /** Channel ids that do not exist, and those the bot is not a member of. */
  private readonly deleted = new Set<string>();
  private readonly notJoined = new Set<string>();
  private readonly responseUrls = new Map<string, ResponseUrl>();
  private failures: Array<{ method: string } & SlackFailure & { times: number }> = [];
  private sequence = 0;
  /** Direct message channels by member id, once conversations.open made them. */
  private readonly dms = new Map<string, string>();
  /** Members that do not exist (conversations.open answers user_not_found). */
  private readonly unknownUsers = new Set<string>();
  /** When chat.postMessage was last accepted per channel, while posts are limited. */
  private readonly lastPost = new Map<string, number>();
  private postInterval: number | undefined;

  private constructor(
    private readonly server: Server,
    private readonly token: string | undefined,
    private readonly clock: () => number,
    private readonly scopes: ReadonlySet<string>,
  ) {}

  /**
   * `token`, when given, is the only one accepted (`invalid_auth` otherwise); `now` is the
   * clock response URLs expire by.
   */
  static async start(
    options: {
      token?: string;
      now?: () => number;
      /** The bot token's scopes; without im:write, conversations.open answers missing_scope. */
      scopes?: readonly string[];
    } = {},
  ): Promise<FakeSlack> {
    let fake: FakeSlack | undefined;
    const server = createServer((req, res) => {
      void fake!.handle(req, res);
    });
    const scopes = new Set(options.scopes ?? ["chat:write", "im:write"]);
    fake = new FakeSlack(server, options.token, options.now ?? Date.now, scopes);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return fake;
  }

  private get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The base URL for WebClient's `slackApiUrl`. */
  get apiUrl(): string {
    return `${this.origin}/api/`;
  }

  /**
   * A new response URL for an interaction by `user` in `channel` (what Slack puts in the
   * payload's `response_url`): good for 5 posts within 30 minutes.
   */
  responseUrl(interaction: { user: string; channel: string }): string {
    const key = `T024BE7LD/${++this.sequence}/${randomBytes(12).toString("hex")}`;
    this.responseUrls.set(key, { ...interaction, issuedAt: this.clock(), uses: 0 });
    return `${this.origin}/actions/${key}`;
  }

  /** The calls of one method, in order (`RESPONSE_URL` for response_url posts). */
  callsTo(method: string): SlackCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** What response URLs accepted for `user`: the private notes they were shown, in order. */
  notesTo(user: string): Array<Record<string, unknown>> {
    return this.callsTo(RESPONSE_URL)
      .filter((call) => call.status === 200 && call.interaction?.user === user)
      .map((call) => call.args);
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

  /** The member does not exist (or left): conversations.open answers `user_not_found`. */
  removeUser(user: string): void {
    this.unknownUsers.add(user);
  }

  /** The DM channel conversations.open gave the member (`D…`), if it opened one. */
  dmChannel(user: string): string | undefined {
    return this.dms.get(user);
  }

  /** The messages posted in the member's DM, in order (thread replies included). */
  dmsTo(user: string): PostedMessage[] {
    const id = this.dms.get(user);
    return [...this.messages.values()].filter((m) => m.channel === id);
  }

  /**
   * Slack's "about one message per second per channel" for chat.postMessage
   * (https://docs.slack.dev/apis/web-api/rate-limits): a post sooner than `perSecond` allows
   * after the channel's last one answers 429 `ratelimited` with Retry-After 1.
   */
  limitPostsPerChannel(perSecond = 1): void {
    this.postInterval = 1000 / perSecond;
  }

  /** From now on the channel does not exist: posts to it answer `channel_not_found`. */
  deleteChannel(channel: string): void {
    this.deleted.add(this.channelId(channel));
  }

  /** The bot leaves the channel (or was never invited): posts answer `not_in_channel`. */
  leaveChannel(channel: string): void {
    this.notJoined.add(this.channelId(channel));
  }

  /**
   * Makes the next `times` calls of `method` (`"*"` for any; `RESPONSE_URL` for response_url
   * posts) misbehave as described. Failures are used in the order they were given.
   */
  failNext(method: string, failure: SlackFailure): void {
    this.failures.push({ method, ...failure, times: failure.times ?? 1 });
  }

  /** Forgets the calls so far but keeps the messages, so later calls can update them. */
  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Forgets calls, messages, channel changes, response URLs and pending failures. */
  reset(): void {
    this.clearCalls();
    this.messages.clear();
    this.deleted.clear();
    this.notJoined.clear();
    this.responseUrls.clear();
    this.failures = [];
    this.dms.clear();
    this.unknownUsers.clear();
    this.lastPost.clear();
    this.postInterval = undefined;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // the client went away mid-body
    }
    const contentType = req.headers["content-type"];
    const args = parseArgs(Buffer.concat(chunks).toString("utf8"), contentType);
    const path = (req.url ?? "").split("?")[0]!;
    const responseUrlKey = /^\/actions\/(.+)$/.exec(path)?.[1];
    const method = responseUrlKey ? RESPONSE_URL : path.replace(/^\/api\//, "");
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const token = bearer ?? (typeof args.token === "string" ? args.token : undefined);
    const call: SlackCall = { at, method, args, token, contentType, status: 0 };
    this.calls.push(call);

    const failure = this.takeFailure(method);
    if (failure?.hang) return; // never answered; close() ends it
    if (failure?.delayMs) await new Promise((resolve) => setTimeout(resolve, failure.delayMs));
    if (failure?.until) await failure.until.catch(() => undefined);
    if (failure?.delayMs || failure?.until) {
      // The client gave up meanwhile (its timeout): nothing answered, the status stays 0.
      // A client that closed just before is seen once the loop has read its close.
      for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
      if (req.socket.destroyed) return;
    }
    if (failure?.drop) {
      req.socket.destroy();
      return;
    }
    // Nothing but a delay or a hold: a slow answer. Anything else (even nothing) is a failure.
    if (failure && (failure.error || failure.status || !(failure.delayMs || failure.until))) {
      if (failure.error) {
        call.error = failure.error;
        return this.send(res, call, 200, {}, { ok: false, error: failure.error });
      }
      const headers: Record<string, string> = {};
      if (failure.retryAfter !== undefined) headers["retry-after"] = String(failure.retryAfter);
      if (failure.status === 429) {
        call.error = "ratelimited";
        return this.send(res, call, 429, headers, { ok: false, error: "ratelimited" });
      }
      call.status = failure.status ?? 500;
      res.writeHead(call.status, { ...headers, "content-type": "text/plain" });
      res.end("upstream connect error");
      return;
    }

    if (responseUrlKey) return this.answerResponseUrl(responseUrlKey, call, res);
    if (!token) return this.send(res, call, 200, {}, { ok: false, error: "not_authed" });
    if (this.token !== undefined && token !== this.token)
      return this.send(res, call, 200, {}, { ok: false, error: "invalid_auth" });
    if (method === "conversations.open") return this.send(res, call, 200, {}, this.open(args));
    if (method === "chat.postMessage" && this.postInterval !== undefined) {
      const id = this.channelId(typeof args.channel === "string" ? args.channel : "");
      const last = this.lastPost.get(id);
      if (last !== undefined && performance.now() - last < this.postInterval)
        return this.send(
          res,
          call,
          429,
          { "retry-after": "1" },
          { ok: false, error: "ratelimited" },
        );
    }
    const answer = this.answer(method, args);
    if (method === "chat.postMessage" && answer.ok === true)
      this.lastPost.set(String(answer.channel), performance.now());
    this.send(res, call, 200, {}, answer);
  }

  private takeFailure(method: string) {
    const index = this.failures.findIndex((f) => f.method === method || f.method === "*");
    const failure = this.failures[index];
    if (!failure) return undefined;
    failure.times -= 1;
    if (failure.times <= 0) this.failures.splice(index, 1);
    return failure;
  }

  /**
   * conversations.open with `users` (one member: a 1:1 DM), as Slack answers it: the DM's
   * `D…` id, with `no_op` and `already_open` once it is open; `missing_scope` (with `needed`
   * and `provided`) without im:write, `users_list_not_supplied`, `user_not_found`.
   */
  private open(args: Record<string, unknown>): Record<string, unknown> {
    if (!this.scopes.has("im:write"))
      return {
        ok: false,
        error: "missing_scope",
        needed: "im:write",
        provided: [...this.scopes].join(","),
      };
    const users = typeof args.users === "string" ? args.users.split(",").filter(Boolean) : [];
    if (users.length === 0) return { ok: false, error: "users_list_not_supplied" };
    if (users.length > 1) return { ok: false, error: "not_enough_users" };
    const user = users[0]!;
    if (!/^[UW][A-Z0-9]{2,}$/.test(user) || this.unknownUsers.has(user))
      return { ok: false, error: "user_not_found" };
    const open = this.dms.get(user);
    if (open) return { ok: true, no_op: true, already_open: true, channel: { id: open } };
    const id = `D${user.slice(1)}`.slice(0, 11);
    this.dms.set(user, id);
    return { ok: true, channel: { id } };
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const channel = typeof args.channel === "string" ? args.channel : "";
    const hasContent = typeof args.text === "string" || args.blocks !== undefined;
    if (!["chat.postMessage", "chat.update", "chat.postEphemeral"].includes(method))
      return { ok: false, error: "unknown_method" };
    if (!channel) return { ok: false, error: "channel_not_found" };
    if (method === "chat.update" && !/^[CGD][A-Z0-9]+$/.test(channel))
      return { ok: false, error: "channel_not_found" };
    const id = this.channelId(channel);
    if (this.deleted.has(id)) return { ok: false, error: "channel_not_found" };
    // A DM channel exists once conversations.open made it.
    if (id.startsWith("D") && ![...this.dms.values()].includes(id))
      return { ok: false, error: "channel_not_found" };
    if (this.notJoined.has(id)) return { ok: false, error: "not_in_channel" };
    if (!hasContent) return { ok: false, error: "no_text" };
    const refused = contentRefusal(args);
    if (refused) return refused;
    const text = typeof args.text === "string" ? args.text : undefined;
    const long = text !== undefined && text.length > SLACK_LIMITS.messageText;
    if (long && method === "chat.update") return { ok: false, error: "msg_too_long" };
    const stored = long ? text.slice(0, SLACK_LIMITS.messageText) : args.text;
    const warning = long
      ? {
          warning: "message_truncated",
          response_metadata: {
            warnings: ["message_truncated"],
            messages: [
              "[WARN] Your message was truncated but still posted. The `text` field accepts up to 40,000 characters.",
            ],
          },
        }
      : {};
    switch (method) {
      case "chat.postMessage": {
        const ts = this.nextTs();
        const message: PostedMessage = { channel: id, ts, text: stored, blocks: args.blocks };
        if (typeof args.thread_ts === "string") {
          if (!this.messages.has(`${id}/${args.thread_ts}`))
            return { ok: false, error: "thread_not_found" };
          message.thread_ts = args.thread_ts;
        }
        this.messages.set(`${id}/${ts}`, message);
        return { ok: true, channel: id, ts, message: { type: "message", ...message }, ...warning };
      }
      case "chat.update": {
        const key = `${channel}/${String(args.ts)}`;
        const existing = this.messages.get(key);
        if (!existing) return { ok: false, error: "message_not_found" };
        this.messages.set(key, { ...existing, text: stored, blocks: args.blocks });
        return { ok: true, channel, ts: args.ts, text: stored };
      }
      default: {
        if (typeof args.user !== "string") return { ok: false, error: "user_not_in_channel" };
        return { ok: true, message_ts: this.nextTs(), ...warning };
      }
    }
  }

  /**
   * A post to a response URL: JSON with `text` and/or `blocks`, checked like a message;
   * `{ok: true}`, or 404 `used_url`/`expired_url` past 5 uses or 30 minutes.
   */
  private answerResponseUrl(key: string, call: SlackCall, res: ServerResponse): undefined {
    const url = this.responseUrls.get(key);
    if (!url) return this.send(res, call, 404, {}, { ok: false, error: "invalid_url" });
    call.interaction = { user: url.user, channel: url.channel };
    if (this.clock() - url.issuedAt > RESPONSE_URL_LIFETIME_MS)
      return this.send(res, call, 404, {}, { ok: false, error: "expired_url" });
    if (url.uses >= RESPONSE_URL_USES)
      return this.send(res, call, 404, {}, { ok: false, error: "used_url" });
    if (!call.contentType?.startsWith("application/json"))
      return this.send(res, call, 400, {}, { ok: false, error: "invalid_payload" });
    const { args } = call;
    if (typeof args.text !== "string" && args.blocks === undefined)
      return this.send(res, call, 400, {}, { ok: false, error: "no_text" });
    const refused = contentRefusal(args);
    if (refused) return this.send(res, call, 400, {}, refused);
    url.uses += 1;
    return this.send(res, call, 200, {}, { ok: true });
  }

  private send(
    res: ServerResponse,
    call: SlackCall,
    status: number,
    headers: Record<string, string>,
    body: Record<string, unknown>,
  ): undefined {
    call.status = status;
    if (body.ok === false) call.error = String(body.error);
    res.writeHead(status, { ...headers, "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(body));
  }

  private nextTs(): string {
    this.sequence += 1;
    return `${1764493800 + this.sequence}.${String(this.sequence * 100).padStart(6, "0")}`;
  }
}

/** Slack's refusal of a message's blocks, or undefined when they are fine. */
function contentRefusal(args: Record<string, unknown>): Record<string, unknown> | undefined {
  if (args.blocks === undefined) return undefined;
  if (typeof args.blocks === "string") return { ok: false, error: "invalid_blocks_format" };
  const problems = blockProblems(args.blocks);
  if (problems.length > 0) {
    return {
      ok: false,
      error: "invalid_blocks",
      errors: problems,
      response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) },
    };
  }
  if (blocksTextLength(args.blocks) > SLACK_LIMITS.blocksTextTotal)
    return { ok: false, error: "msg_blocks_too_long" };
  return undefined;
}

/** Form bodies (what WebClient sends, JSON-encoding blocks) or JSON bodies. */
function parseArgs(text: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.startsWith("application/json")) {
    try {
      const parsed: unknown = JSON.parse(text);
      return typeof parsed === "object" && parsed !== null
        ? (parsed as Record<string, unknown>)
        : {};
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

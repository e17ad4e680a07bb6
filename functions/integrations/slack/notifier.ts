import { randomUUID } from "node:crypto";
import {
  ErrorCode,
  LogLevel,
  type RetryOptions,
  type Logger as SlackLogger,
  WebClient,
} from "@slack/web-api";
import type {
  DeliveryOutcome,
  Notification,
  Notifier,
  SlackMessageRef,
} from "../../core/notification.js";
import { NOT_DELIVERED_NO_CREDENTIALS } from "../../delivery/outcomes.js";
import {
  escalationReply,
  incidentMessage,
  plainEscalationReply,
  plainIncidentMessage,
  type SlackMessage,
  withoutImage,
} from "./message.js";

/**
 * WebClient makes one request per call: retrying, with backoff and Retry-After, is the
 * delivery pipeline's (delivery/pipeline.ts), which sees a 429 as a retryable failure instead of
 * WebClient sleeping it out.
 */
export const SLACK_RETRY: RetryOptions = { retries: 0 };

export interface SlackNotifierOptions {
  /** The bot token (xoxb-…); without one nothing is sent. */
  token?: string | undefined;
  /** Where the Web API lives (SLACK_API_URL), e.g. a local fake; Slack's by default. */
  slackApiUrl?: string | undefined;
  /** Per-request timeout; default 5 s. */
  timeoutMs?: number | undefined;
  /** WebClient's own logging; WARN by default. It never logs the token. */
  logLevel?: LogLevel | undefined;
  logger?: SlackLogger | undefined;
}

/**
 * Slack's refusals of a message's content (https://docs.slack.dev/reference/methods/chat.postMessage#errors):
 * the same page sent as plain text goes through.
 */
const CONTENT_REFUSALS = new Set([
  "invalid_blocks",
  "invalid_blocks_format",
  "msg_blocks_too_long",
  "msg_too_long",
]);

/** What a message carries: blocks, or plain text alone (the fallback). */
export type Content = Pick<SlackMessage, "text"> & Partial<Pick<SlackMessage, "blocks">>;

/** A WebClient making one request per call, or undefined without a token (nothing is sent). */
export function slackWebClient(options: SlackNotifierOptions): WebClient | undefined {
  const token = options.token?.trim();
  if (!token) return undefined;
  return new WebClient(token, {
    ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
    retryConfig: SLACK_RETRY,
    // A 429 is answered at once as a RateLimitedError with its Retry-After.
    rejectRateLimitedCalls: true,
    timeout: options.timeoutMs ?? 5_000,
    ...(options.logger
      ? { logger: options.logger }
      : { logLevel: options.logLevel ?? LogLevel.WARN }),
  });
}

/**
 * Posts incidents to Slack with @slack/web-api: a message with Acknowledge / Resolve /
 * Snooze buttons when triggered, a thread reply mentioning the next level's people when
 * escalated, and updates of that message as its state changes. One attempt per call: a
 * 429, a 5xx or no answer is a retryable failure (with Slack's Retry-After), others final.
 * When Slack refuses a message's content (invalid_blocks, msg_too_long, …) it is sent again
 * as plain text, so the page is never lost with its formatting.
 */
export class SlackNotifier implements Notifier {
  readonly kind = "slack" as const;
  private readonly client: WebClient | undefined;

  constructor(options: SlackNotifierOptions = {}) {
    this.client = slackWebClient(options);
  }

  async send(notification: Notification): Promise<DeliveryOutcome> {
    const client = this.client;
    if (!client) return { ...NOT_DELIVERED_NO_CREDENTIALS };
    const { channel, slackMessage, kind } = notification;
    if (channel.type !== "slack") {
      return {
        status: "failed",
        detail: `channel ${notification.channelId} is not a Slack channel`,
      };
    }
    // A new block_id for the buttons in each version: Slack keeps element state by block_id.
    const message = incidentMessage(notification, { version: randomUUID().slice(0, 8) });
    const plain = () => plainIncidentMessage(notification);
    try {
      if (!slackMessage || kind === "trigger") {
        const { result: posted, note } = await withFallback(message, plain, (content) =>
          this.post(client, channel.channel, content),
        );
        return {
          status: "delivered",
          detail: `posted to ${channel.channel}${note}`,
          slackMessage: posted,
        };
      }
      if (kind === "escalate") {
        const { note } = await withFallback(
          escalationReply(notification),
          () => plainEscalationReply(notification),
          (content) => this.post(client, slackMessage.channel, content, slackMessage.ts),
        );
        // The people are paged by now; a stale parent message is worth a note, not a failure.
        const updated = await withFallback(message, plain, (content) =>
          this.update(client, slackMessage, content),
        ).then(
          (done) => `and updated the message${done.note}`,
          (error: unknown) => `but could not update the message (${describe(error)})`,
        );
        return {
          status: "delivered",
          detail: `replied in the thread in ${channel.channel}${note} ${updated}`,
        };
      }
      const { note } = await withFallback(message, plain, (content) =>
        this.update(client, slackMessage, content),
      );
      return { status: "delivered", detail: `updated the message in ${channel.channel}${note}` };
    } catch (error) {
      return { status: "failed", detail: describe(error), ...retryability(error) };
    }
  }

  private async post(
    client: WebClient,
    channel: string,
    message: Content,
    threadTs?: string,
  ): Promise<SlackMessageRef> {
    const response = await client.chat.postMessage({
      channel,
      text: message.text,
      ...(message.blocks ? { blocks: message.blocks } : {}),
      unfurl_links: false,
      unfurl_media: false,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
    if (!response.channel || !response.ts) {
      throw new Error("Slack accepted chat.postMessage but returned no channel or ts");
    }
    return { channel: response.channel, ts: response.ts };
  }

  private async update(client: WebClient, ref: SlackMessageRef, message: Content) {
    await client.chat.update({
      channel: ref.channel,
      ts: ref.ts,
      text: message.text,
      // Plain text replaces the blocks, which an update without `blocks` would keep.
      blocks: message.blocks ?? [],
    });
  }
}

/**
 * Sends `message`; when Slack refuses its content, sends `plain()` as text alone instead,
 * and `note` says so for the timeline. A message with an image goes first without it:
 * Slack fetches the image and refuses the message (`invalid_blocks`, "downloading image
 * failed") when it cannot. Any other error is thrown as it came.
 */
export async function withFallback<T>(
  message: SlackMessage,
  plain: () => string,
  send: (content: Content) => Promise<T>,
): Promise<{ result: T; note: string }> {
  try {
    return { result: await send(message), note: "" };
  } catch (error) {
    if (!refusesContent(error)) throw error;
    const imageless = withoutImage(message);
    if (imageless) {
      try {
        return { result: await send(imageless), note: ` without its image (${describe(error)})` };
      } catch (again) {
        if (!refusesContent(again)) throw again;
      }
    }
    return { result: await send({ text: plain() }), note: ` as plain text (${describe(error)})` };
  }
}

function refusesContent(error: unknown): boolean {
  const failure = error as { code?: string; data?: { error?: string } };
  return (
    failure.code === ErrorCode.PlatformError && CONTENT_REFUSALS.has(failure.data?.error ?? "")
  );
}

/** Whether a WebClient error is worth another attempt, and when Slack asked for it. */
export function retryability(error: unknown): { retryable: boolean; retryAfterMs?: number } {
  const failure = error as { code?: string; statusCode?: number; retryAfter?: number };
  if (failure.code === ErrorCode.RateLimitedError)
    return { retryable: true, retryAfterMs: (failure.retryAfter ?? 1) * 1000 };
  if (failure.code === ErrorCode.RequestError) return { retryable: true };
  if (failure.code === ErrorCode.HTTPError)
    return { retryable: failure.statusCode === 429 || (failure.statusCode ?? 0) >= 500 };
  return { retryable: false };
}

/** A timeline detail for a WebClient error. */
export function describe(error: unknown): string {
  const failure = error as {
    code?: string;
    data?: { error?: string };
    statusCode?: number;
    original?: Error;
    message?: string;
  };
  switch (failure.code) {
    case ErrorCode.PlatformError:
      return `Slack refused the message: ${failure.data?.error ?? "unknown error"}`;
    case ErrorCode.HTTPError:
      return `Slack answered ${failure.statusCode}`;
    case ErrorCode.RequestError:
      return `Slack unreachable: ${failure.original?.message ?? failure.message}`;
    case ErrorCode.RateLimitedError:
      return "Slack rate limited the message";
    default:
      return `Slack call failed: ${failure.message ?? String(error)}`;
  }
}

/** What Slack is configured with (delivery/registry.ts NotifierSettings). */
export interface SlackSettings {
  /** The bot token (SLACK_BOT_TOKEN); without one nothing is sent. */
  token?: string | undefined;
  /** Where the Web API lives (SLACK_API_URL); Slack's by default. */
  apiUrl?: string | undefined;
}

/** The Slack channel notifier from its settings. */
export function slackNotifier(settings: SlackSettings): SlackNotifier {
  return new SlackNotifier({ token: settings.token, slackApiUrl: settings.apiUrl });
}

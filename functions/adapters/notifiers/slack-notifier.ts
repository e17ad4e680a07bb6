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
import { NO_CREDENTIALS } from "./outcomes.js";
import { escalationReply, incidentMessage, type SlackMessage } from "./slack-message.js";

/**
 * WebClient's retry policy (node-retry options): up to 3 retries of a 5xx or a network
 * error, backoff 0.5-1 s, 1-2 s, 2-4 s, none started after 10 s. A 429 is retried too,
 * after WebClient has slept the Retry-After seconds.
 */
export const SLACK_RETRY: RetryOptions = {
  retries: 3,
  factor: 2,
  minTimeout: 500,
  maxTimeout: 4_000,
  randomize: true,
  maxRetryTime: 10_000,
};

export interface SlackNotifierOptions {
  /** The bot token (xoxb-…); without one nothing is sent. */
  token?: string | undefined;
  /** Where the Web API lives (SLACK_API_URL), e.g. a local fake; Slack's by default. */
  slackApiUrl?: string | undefined;
  retryConfig?: RetryOptions | undefined;
  /** Per-request timeout; default 5 s. */
  timeoutMs?: number | undefined;
  /** WebClient's own logging; WARN by default. It never logs the token. */
  logLevel?: LogLevel | undefined;
  logger?: SlackLogger | undefined;
}

/**
 * Posts incidents to Slack with @slack/web-api: a message with Acknowledge / Resolve /
 * Snooze buttons when triggered, a thread reply mentioning the next level's people when
 * escalated, and updates of that message as its state changes. Retries and Retry-After
 * are WebClient's own (configured, not re-implemented); what still fails is `failed`.
 */
export class SlackNotifier implements Notifier {
  readonly kind = "slack" as const;
  private readonly client: WebClient | undefined;

  constructor(options: SlackNotifierOptions = {}) {
    const token = options.token?.trim();
    if (!token) return;
    this.client = new WebClient(token, {
      ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
      retryConfig: options.retryConfig ?? SLACK_RETRY,
      // false: WebClient waits out a 429's Retry-After and tries again.
      rejectRateLimitedCalls: false,
      timeout: options.timeoutMs ?? 5_000,
      ...(options.logger
        ? { logger: options.logger }
        : { logLevel: options.logLevel ?? LogLevel.WARN }),
    });
  }

  async send(notification: Notification): Promise<DeliveryOutcome> {
    const client = this.client;
    if (!client) return { status: "not_delivered", detail: NO_CREDENTIALS };
    const { channel, slackMessage, kind } = notification;
    if (channel.type !== "slack") {
      return {
        status: "failed",
        detail: `channel ${notification.channelId} is not a Slack channel`,
      };
    }
    const message = incidentMessage(notification);
    try {
      if (!slackMessage || kind === "trigger") {
        const posted = await this.post(client, channel.channel, message);
        return {
          status: "delivered",
          detail: `posted to ${channel.channel}`,
          slackMessage: posted,
        };
      }
      if (kind === "escalate") {
        await this.post(
          client,
          slackMessage.channel,
          escalationReply(notification),
          slackMessage.ts,
        );
        // The people are paged by now; a stale parent message is worth a note, not a failure.
        const updated = await this.update(client, slackMessage, message).then(
          () => "and updated the message",
          (error: unknown) => `but could not update the message (${describe(error)})`,
        );
        return {
          status: "delivered",
          detail: `replied in the thread in ${channel.channel} ${updated}`,
        };
      }
      await this.update(client, slackMessage, message);
      return { status: "delivered", detail: `updated the message in ${channel.channel}` };
    } catch (error) {
      return { status: "failed", detail: describe(error) };
    }
  }

  private async post(
    client: WebClient,
    channel: string,
    message: SlackMessage,
    threadTs?: string,
  ): Promise<SlackMessageRef> {
    const response = await client.chat.postMessage({
      channel,
      text: message.text,
      blocks: message.blocks,
      unfurl_links: false,
      unfurl_media: false,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
    if (!response.channel || !response.ts) {
      throw new Error("Slack accepted chat.postMessage but returned no channel or ts");
    }
    return { channel: response.channel, ts: response.ts };
  }

  private async update(client: WebClient, ref: SlackMessageRef, message: SlackMessage) {
    await client.chat.update({
      channel: ref.channel,
      ts: ref.ts,
      text: message.text,
      blocks: message.blocks,
    });
  }
}

/** A timeline detail for a WebClient error, after its retries. */
function describe(error: unknown): string {
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

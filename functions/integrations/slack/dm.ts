import { randomUUID } from "node:crypto";
import type { WebClient } from "@slack/web-api";
import type {
  DeliveryOutcome,
  Notification,
  Notifier,
  SlackMessageRef,
} from "../../core/notification.js";
import { NOT_DELIVERED_NO_CREDENTIALS } from "../../delivery/outcomes.js";
import { incidentMessage, plainIncidentMessage, type SlackMessage } from "./message.js";
import {
  type Content,
  describe,
  retryability,
  type SlackNotifierOptions,
  slackWebClient,
  withFallback,
} from "./notifier.js";

/**
 * conversations.open refusals that no retry cures: the member id is wrong, the member is
 * deactivated or hidden from the bot, or the app lacks the im:write scope
 * (https://docs.slack.dev/reference/methods/conversations.open).
 */
const FINAL_OPEN_ERRORS = new Set([
  "user_not_found",
  "user_not_visible",
  "user_disabled",
  "missing_scope",
  "cannot_dm_bot",
]);

/** The message without its buttons: a later DM says it again, the first one is where to act. */
function withoutButtons(message: SlackMessage): SlackMessage {
  return { ...message, blocks: message.blocks.filter((block) => block.type !== "actions") };
}

/**
 * Pages a person by Slack direct message (a DM notifies even where a channel mention does
 * not): conversations.open on the member id (it opens or resumes the DM, so calling it every
 * time is right), then chat.postMessage to the `D…` channel it answers, with the incident's
 * blocks, its Acknowledge / Resolve / Snooze buttons (the same action ids as the channel
 * message, so /slack/interactions handles a DM click unchanged) and the person's signed
 * links. The first DM is the one kept (slackMessages["@<userId>"]) and updated on every state
 * change; a later one (a later rule, a repeat) is a new message without buttons, since a
 * thread reply may not wake anyone. One request per call, as SlackNotifier: a 429 (with
 * Retry-After: about one message per second per channel), a 5xx or no answer is retryable.
 */
export class SlackDmNotifier implements Notifier {
  readonly kind = "slack_dm" as const;
  private readonly client: WebClient | undefined;

  constructor(options: SlackNotifierOptions = {}) {
    this.client = slackWebClient(options);
  }

  async send(notification: Notification): Promise<DeliveryOutcome> {
    const client = this.client;
    if (!client) return { ...NOT_DELIVERED_NO_CREDENTIALS };
    const { channel, slackMessage, kind } = notification;
    if (channel.type !== "slack_dm")
      return { status: "failed", detail: `${notification.channelId} is not a Slack DM` };
    const message = incidentMessage(notification, { version: randomUUID().slice(0, 8) });
    const plain = () => plainIncidentMessage(notification);
    try {
      if (kind === "acknowledge" || kind === "resolve") {
        // Only the first DM is updated; a person never sent one has nothing to update.
        if (!slackMessage)
          return { status: "not_delivered", detail: "no direct message to update" };
        const { note } = await withFallback(message, plain, (content) =>
          update(client, slackMessage, content),
        );
        return { status: "delivered", detail: `updated the direct message${note}` };
      }
      const opened = await openDm(client, channel.user);
      if ("refused" in opened) return opened.refused;
      const first = !slackMessage;
      const { result: posted, note } = await withFallback(
        first ? message : withoutButtons(message),
        plain,
        (content) => post(client, opened.channel, content),
      );
      return {
        status: "delivered",
        detail: `${first ? "direct message" : "another direct message"} to ${channel.user}${note}`,
        providerId: posted.ts,
        ...(first ? { slackMessage: posted } : {}),
      };
    } catch (error) {
      return { status: "failed", detail: describe(error), ...retryability(error) };
    }
  }
}

async function openDm(
  client: WebClient,
  user: string,
): Promise<{ channel: string } | { refused: DeliveryOutcome }> {
  try {
    const opened = await client.conversations.open({ users: user });
    const id = opened.channel?.id;
    if (!id) throw new Error("Slack opened the conversation but returned no channel id");
    return { channel: id };
  } catch (error) {
    const code = (error as { data?: { error?: string; needed?: string } }).data;
    if (code?.error && FINAL_OPEN_ERRORS.has(code.error)) {
      const scope =
        code.error === "missing_scope" ? ` (the app needs ${code.needed ?? "im:write"})` : "";
      return {
        refused: {
          status: "failed",
          retryable: false,
          detail: `Slack would not open a direct message with ${user}: ${code.error}${scope}`,
        },
      };
    }
    throw error;
  }
}

async function post(
  client: WebClient,
  channel: string,
  message: Content,
): Promise<SlackMessageRef> {
  const response = await client.chat.postMessage({
    channel,
    text: message.text,
    ...(message.blocks ? { blocks: message.blocks } : {}),
    // Link previewers fetch links: the acknowledgement links must not be unfurled.
    unfurl_links: false,
    unfurl_media: false,
  });
  if (!response.channel || !response.ts)
    throw new Error("Slack accepted chat.postMessage but returned no channel or ts");
  return { channel: response.channel, ts: response.ts };
}

async function update(client: WebClient, ref: SlackMessageRef, message: Content): Promise<void> {
  await client.chat.update({
    channel: ref.channel,
    ts: ref.ts,
    text: message.text,
    blocks: message.blocks ?? [],
  });
}

/** The DM notifier from Slack's settings (the same bot token as the channel messages). */
export function slackDmNotifier(settings: {
  token?: string | undefined;
  apiUrl?: string | undefined;
}) {
  return new SlackDmNotifier({ token: settings.token, slackApiUrl: settings.apiUrl });
}

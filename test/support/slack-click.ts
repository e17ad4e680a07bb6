import { createHmac } from "node:crypto";
import { fixture } from "./fixtures.js";

/** A button click as a test describes it; everything else comes from Slack's documented payload. */
export interface SlackClickOptions {
  signingSecret: string;
  /** `acknowledge`, `resolve`, `snooze`, or the overflow menu's `snooze_longer`. */
  actionId: string;
  /** The button's value (the incident id), or the chosen option's value for `snooze_longer`. */
  value?: string | undefined;
  user?: { id: string; username?: string | undefined } | undefined;
  /** The workspace the click comes from; null as Slack sends it for some org-wide apps. */
  teamId?: string | null | undefined;
  /** The channel the message is in (where an ephemeral answer goes). */
  channelId?: string | undefined;
  /** When the request is signed: `X-Slack-Request-Timestamp`. */
  timestamp: Date;
  /** Where the interaction may be answered (e.g. a fake's `responseUrl()`); the fixture's otherwise. */
  responseUrl?: string | undefined;
}

export interface SignedSlackRequest {
  /** The form-encoded body, exactly as signed: `payload=<json>`. */
  body: string;
  headers: Record<string, string>;
  payload: Record<string, unknown>;
}

/** Slack's signature of a request body: https://api.slack.com/authentication/verifying-requests-from-slack */
export function slackSignature(signingSecret: string, timestamp: string, body: string): string {
  return `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

/** Headers that sign `body` at `timestamp`, as Slack sends them (lower case, as API Gateway passes them). */
export function slackHeaders(
  signingSecret: string,
  timestamp: Date,
  body: string,
): Record<string, string> {
  const seconds = String(Math.floor(timestamp.getTime() / 1000));
  return {
    "content-type": "application/x-www-form-urlencoded",
    "x-slack-request-timestamp": seconds,
    "x-slack-signature": slackSignature(signingSecret, seconds, body),
  };
}

/**
 * A signed `block_actions` interaction built from the fixture (captured from Slack's
 * documentation): a button click, or for `snooze_longer` an overflow menu choice, which
 * Slack sends as `selected_option` instead of `value`.
 */
export function slackClick(options: SlackClickOptions): SignedSlackRequest {
  const payload = structuredClone(fixture("slack-block-actions.json")) as Record<
    string,
    unknown
  > & {
    user: Record<string, unknown>;
    team: Record<string, unknown> | null;
    channel: Record<string, unknown>;
    container: Record<string, unknown>;
    actions: Array<Record<string, unknown>>;
  };
  if (options.user) {
    payload.user = {
      ...payload.user,
      id: options.user.id,
      username: options.user.username ?? options.user.id.toLowerCase(),
      name: options.user.username ?? options.user.id.toLowerCase(),
    };
  }
  if (options.teamId !== undefined) {
    payload.team = options.teamId === null ? null : { ...payload.team, id: options.teamId };
    if (options.teamId) payload.user.team_id = options.teamId;
  }
  if (options.channelId) {
    payload.channel = { ...payload.channel, id: options.channelId };
    payload.container = { ...payload.container, channel_id: options.channelId };
  }
  if (options.responseUrl) payload.response_url = options.responseUrl;
  const base = payload.actions[0]!;
  const action: Record<string, unknown> =
    options.actionId === "snooze_longer"
      ? {
          type: "overflow",
          action_id: "snooze_longer",
          block_id: base.block_id,
          selected_option: {
            text: { type: "plain_text", text: "Snooze", emoji: true },
            value: options.value,
          },
          action_ts: base.action_ts,
        }
      : { ...base, action_id: options.actionId, value: options.value };
  if (options.value === undefined) {
    delete action.value;
    delete action.selected_option;
  }
  payload.actions = [action];
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return { body, headers: slackHeaders(options.signingSecret, options.timestamp, body), payload };
}

import type { Logger } from "@aws-lambda-powertools/logger";
import type { ChannelConfig } from "../../core/config.js";
import type { DeliveryOutcome, Notification, Notifier } from "../../core/notification.js";
import { describeError, NOT_DELIVERED_NO_CREDENTIALS } from "../../delivery/outcomes.js";
import { type PagerDutyEventOptions, pagerDutyEvent } from "./event.js";
import { pagerDutyRest } from "./rest.js";
import { type EventAnswer, PagerDutyUnreachableError, sendEvent } from "./transport.js";
import { PagerDutyUserMode, type UserModeOptions } from "./user-mode.js";

/** Picks the routing key for a notification; undefined when there is none. */
export type RoutingKeyResolver = (target: {
  channelId: string;
  channel: Extract<ChannelConfig, { type: "pagerduty" }>;
  team: string;
}) => string | undefined;

export interface PagerDutyNotifierOptions extends PagerDutyEventOptions {
  /** The Events v2 integration key, or a function choosing one per channel or team. */
  routingKey?: string | RoutingKeyResolver | undefined;
  /** host[:port] of the Events API (PAGERDUTY_SERVER); PagerDuty's own by default. */
  server?: string | undefined;
  /** PEM certificates to trust instead of the default roots, for a local fake. */
  ca?: string | undefined;
  /** Per-request timeout; default 5 s. */
  timeoutMs?: number | undefined;
  logger?: Pick<Logger, "warn"> | undefined;
  /** User mode's REST client, by the channel's `from` (see user-mode.ts). */
  rest?: UserModeOptions["rest"];
  /** Secrets that must never reach a detail (the REST token). */
  secrets?: readonly string[] | undefined;
}

/**
 * Pages through PagerDuty, in the channel's mode (README "PagerDuty"). *service* (the
 * default): PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2-overview)
 * with @pagerduty/pdjs, one request per call; 202 is delivered; 5xx, 429 (with its
 * Retry-After) and no answer are retryable failures; any other 4xx fails for good; the
 * service's own escalation policy chooses whom PagerDuty pages. *user*: the REST API
 * assigns the PagerDuty incident to each level's people (user-mode.ts). Keys and tokens are
 * secrets: they never appear in a detail or a log line.
 */
export class PagerDutyNotifier implements Notifier {
  readonly kind = "pagerduty" as const;
  private readonly userMode: PagerDutyUserMode;

  constructor(private readonly options: PagerDutyNotifierOptions = {}) {
    this.userMode = new PagerDutyUserMode({
      rest: options.rest,
      incidentUrl: options.incidentUrl,
      logger: options.logger,
    });
  }

  async send(notification: Notification): Promise<DeliveryOutcome> {
    const { channel } = notification;
    if (channel.type === "pagerduty" && channel.mode === "user") {
      const outcome = await this.userMode.send(notification, channel);
      return { ...outcome, detail: withoutSecrets(outcome.detail, this.options.secrets ?? []) };
    }
    const routingKey = this.routingKeyFor(notification);
    if (!routingKey) return { ...NOT_DELIVERED_NO_CREDENTIALS };
    // Belt and braces: PagerDuty's error text should never echo the key, but if it did…
    const redact = (text: string) =>
      routingKey.length >= 8 ? text.split(routingKey).join("[routing key]") : text;
    try {
      const event = pagerDutyEvent(notification, routingKey, this.options);
      const outcome = await this.attempt(event, notification.incident.id);
      return { ...outcome, detail: redact(outcome.detail) };
    } catch (error) {
      return { status: "failed", detail: redact(`PagerDuty event not sent: ${String(error)}`) };
    }
  }

  private routingKeyFor(notification: Notification): string | undefined {
    const { routingKey } = this.options;
    const { channel } = notification;
    const key =
      typeof routingKey === "function"
        ? channel.type === "pagerduty"
          ? routingKey({
              channelId: notification.channelId,
              channel,
              team: notification.incident.team,
            })
          : undefined
        : routingKey;
    // An env var holding only whitespace is no key at all.
    return key?.trim() || undefined;
  }

  private async attempt(
    event: ReturnType<typeof pagerDutyEvent>,
    dedupKey: string,
  ): Promise<DeliveryOutcome> {
    let answer: EventAnswer;
    try {
      answer = await sendEvent(event, {
        server: this.options.server,
        ca: this.options.ca,
        timeoutMs: this.options.timeoutMs ?? 5_000,
      });
    } catch (error) {
      if (!(error instanceof PagerDutyUnreachableError)) {
        return { status: "failed", detail: `PagerDuty event not sent: ${describeError(error)}` };
      }
      this.options.logger?.warn("PagerDuty unreachable", { reason: error.message });
      return {
        status: "failed",
        retryable: true,
        detail: `PagerDuty unreachable: ${error.message}`,
      };
    }
    if (answer.status >= 200 && answer.status < 300) {
      return {
        status: "delivered",
        detail: `PagerDuty accepted ${event.event_action} (dedup key ${dedupKey})${
          event.event_action === "trigger"
            ? "; PagerDuty's escalation policy chooses who is paged"
            : ""
        }`,
      };
    }
    if (answer.status === 429 || answer.status >= 500) {
      this.options.logger?.warn("PagerDuty answered a retryable status", {
        status: answer.status,
        retryAfterSeconds: answer.retryAfterSeconds,
      });
      // pdjs's 429 is cut short before its body is read: say what it means instead.
      const reason =
        answer.status === 429
          ? ` (rate limited${answer.retryAfterSeconds === undefined ? "" : `, Retry-After ${answer.retryAfterSeconds} s`})`
          : explain(answer);
      return {
        status: "failed",
        retryable: true,
        detail: `PagerDuty answered ${answer.status}${reason}`,
        ...(answer.retryAfterSeconds === undefined
          ? {}
          : { retryAfterMs: answer.retryAfterSeconds * 1000 }),
      };
    }
    return { status: "failed", detail: `PagerDuty answered ${answer.status}${explain(answer)}` };
  }
}

/** `text` with each secret of 8 characters or more replaced by a mark. */
function withoutSecrets(text: string, secrets: readonly string[]): string {
  return secrets.reduce(
    (redacted, secret) => (secret.length >= 8 ? redacted.split(secret).join("[secret]") : redacted),
    text,
  );
}

/** PagerDuty's own words from an error body: `: Event object is invalid ('…' is missing)`. */
function explain(answer: EventAnswer): string {
  const body = answer.body as { message?: unknown; errors?: unknown } | undefined;
  if (!body || typeof body.message !== "string") return "";
  const errors = Array.isArray(body.errors) ? body.errors.map(String).join("; ") : "";
  return `: ${body.message}${errors ? ` (${errors})` : ""}`;
}

/** What the PagerDuty channels are configured with (delivery/registry.ts NotifierSettings). */
export interface PagerDutySettings {
  /** The default Events v2 routing key (PAGERDUTY_ROUTING_KEY). */
  routingKey?: string | undefined;
  /** Reads the variable a channel's `routingKeyEnv` names, for per-channel keys. */
  keyFromEnv?: ((name: string) => string | undefined) | undefined;
  /** host[:port] of PagerDuty's APIs (PAGERDUTY_SERVER); PagerDuty's own by default. */
  server?: string | undefined;
  /** PEM to trust (tests' fake PagerDuty only). */
  ca?: string | undefined;
  /** User mode's REST API v2 access (PAGERDUTY_API_TOKEN); unset: user-mode channels are not delivered. */
  rest?:
    | {
        token: string;
        from?: string | undefined;
        server?: string | undefined;
        ca?: string | undefined;
      }
    | undefined;
}

/** The PagerDuty notifier from its settings; without a routing key it answers not_delivered. */
export function pagerDutyNotifier(
  settings: PagerDutySettings,
  logger?: Pick<Logger, "warn">,
): PagerDutyNotifier {
  return new PagerDutyNotifier({
    routingKey: ({ channel }) =>
      (channel.routingKeyEnv ? settings.keyFromEnv?.(channel.routingKeyEnv) : undefined) ??
      settings.routingKey,
    server: settings.server,
    ca: settings.ca,
    logger,
    ...(settings.rest ? restFor(settings.rest, settings) : {}),
  });
}

/** User mode's REST client from the settings: PagerDuty's REST host unless told otherwise. */
function restFor(
  rest: NonNullable<PagerDutySettings["rest"]>,
  settings: PagerDutySettings,
): Pick<PagerDutyNotifierOptions, "rest" | "secrets"> {
  const token = rest.token.trim();
  if (!token) return {};
  return {
    secrets: [token],
    rest: (from) => {
      const actingAs = from ?? rest.from;
      if (!actingAs) return undefined;
      return pagerDutyRest({
        token,
        from: actingAs,
        // The same host as the Events API when one is set for tests (the fake serves both).
        server: rest.server ?? settings.server,
        ca: rest.ca ?? settings.ca,
        timeoutMs: 5_000,
      });
    },
  };
}

import type { Logger } from "@aws-lambda-powertools/logger";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { Notifier } from "../core/notification.js";
import { EmailNotifier } from "../integrations/email/notifier.js";
import type { EmailOutbox } from "../integrations/email/outbox.js";
import { PagerDutyNotifier } from "../integrations/pagerduty/notifier.js";
import { SlackNotifier } from "../integrations/slack/notifier.js";

/** The channels' adapters by channel type; a type without one is not delivered. */
export type NotifierRegistry = Partial<Record<Notifier["kind"], Notifier>>;

export interface NotifierSettings {
  slack: { token?: string | undefined; apiUrl?: string | undefined };
  pagerDuty: {
    /** The default Events v2 routing key (PAGERDUTY_ROUTING_KEY). */
    routingKey?: string | undefined;
    /** Reads the variable a channel's `routingKeyEnv` names, for per-channel keys. */
    keyFromEnv?: (name: string) => string | undefined;
    server?: string | undefined;
    /** PEM to trust (tests' fake PagerDuty only). */
    ca?: string | undefined;
  };
  email: {
    sns?: { client: SNSClient; topics: Readonly<Record<string, string>> } | undefined;
    outbox?: EmailOutbox | undefined;
  };
  logger: Logger;
}

/** The three channel adapters, configured; a channel without credentials answers not_delivered. */
export function buildNotifiers(settings: NotifierSettings): Required<NotifierRegistry> {
  const { pagerDuty } = settings;
  return {
    pagerduty: new PagerDutyNotifier({
      routingKey: ({ channel }) =>
        (channel.routingKeyEnv ? pagerDuty.keyFromEnv?.(channel.routingKeyEnv) : undefined) ??
        pagerDuty.routingKey,
      server: pagerDuty.server,
      ca: pagerDuty.ca,
      logger: settings.logger,
    }),
    slack: new SlackNotifier({ token: settings.slack.token, slackApiUrl: settings.slack.apiUrl }),
    email: new EmailNotifier({ sns: settings.email.sns, outbox: settings.email.outbox }),
  };
}

import type { Logger } from "@aws-lambda-powertools/logger";
import type { Notifier } from "../core/notification.js";
import { type EmailSettings, emailNotifier } from "../integrations/email/notifier.js";
import { type PagerDutySettings, pagerDutyNotifier } from "../integrations/pagerduty/notifier.js";
import { slackDmNotifier } from "../integrations/slack/dm.js";
import { type SlackSettings, slackNotifier } from "../integrations/slack/notifier.js";
import { type SmsSettings, smsNotifier } from "../integrations/sms/notifier.js";
import { type VoiceSettings, voiceNotifier } from "../integrations/voice/notifier.js";

/** The channels' adapters by channel type; a type without one is not delivered. */
export type NotifierRegistry = Partial<Record<Notifier["kind"], Notifier>>;

/** Where a phone message goes locally when it is not sent (the console and .data/outbox/). */
export type PhoneOutbox = (message: {
  kind: "sms" | "voice";
  to: string;
  body: string;
}) => Promise<void>;

/**
 * What every notifier is configured with, one field per integration; each integration
 * folder builds its own notifier from its field (a type whose field is unset is built
 * without credentials and answers not_delivered).
 */
export interface NotifierSettings {
  slack: SlackSettings;
  pagerDuty: PagerDutySettings;
  email: EmailSettings;
  /** SMS through SNS Publish with PhoneNumber (TOCSIN_SMS=sns), else the outbox. */
  sms?: SmsSettings | undefined;
  /** Voice calls through End User Messaging SendVoiceMessage (TOCSIN_VOICE_ORIGINATION), else the outbox. */
  voice?: VoiceSettings | undefined;
  logger: Logger;
}

/** Every channel type's adapter, configured; a channel without credentials answers not_delivered. */
export function buildNotifiers(settings: NotifierSettings): NotifierRegistry {
  const registry: NotifierRegistry = {
    pagerduty: pagerDutyNotifier(settings.pagerDuty, settings.logger),
    slack: slackNotifier(settings.slack),
    email: emailNotifier(settings.email),
  };
  // ── phones (WP2): sms, voice ──
  const replies =
    !!settings.sms?.sns && !!settings.sms.replyBook && !!settings.sms.originationNumber;
  registry.sms = smsNotifier(settings.sms, settings.logger);
  registry.voice = voiceNotifier({ replies, ...settings.voice });
  // ── end phones ──
  // ── Slack DMs (WP4): slack_dm ──
  registry.slack_dm = slackDmNotifier(settings.slack);
  // ── end Slack DMs ──
  return registry;
}

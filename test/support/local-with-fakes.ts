import { Logger } from "@aws-lambda-powertools/logger";
import { PinpointSMSVoiceV2Client } from "@aws-sdk/client-pinpoint-sms-voice-v2";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { SNSClient } from "@aws-sdk/client-sns";
import { loadServiceFiles } from "../../functions/adapters/config-file.js";
import type { Config } from "../../functions/core/config.js";
import type { NotifierSettings } from "../../functions/delivery/registry.js";
import {
  type LocalServer,
  type LocalServerOptions,
  startLocalServer,
} from "../../functions/local/server.js";
import { FakeAwsMessaging } from "./fake-aws-messaging.js";
import { FAKE_ACCOUNT, type FakeAccount, FakePagerDuty } from "./fake-pagerduty.js";
import { FakeSlack } from "./fake-slack.js";

/** A routing key of the shape PagerDuty accepts (the fake checks it). */
export const ROUTING_KEY = "0123456789abcdef0123456789abcdef";
const BOT_TOKEN = "xoxb-local-fakes";
/** The number texts and calls come from (the fake End User Messaging account owns it). */
export const PHONE_ORIGINATION = "+447700900999";
/** The key acknowledgement links are signed with. */
export const LINK_KEY = "link-key-local-fakes";
/** The verified SES identity people's email comes from. */
export const EMAIL_FROM = "tocsin@example.com";
/** The PagerDuty v3 webhook subscription's signing secret the server and the fake share. */
export const PAGERDUTY_WEBHOOK_SECRET = "pd-webhook-secret-local-fakes";

export interface LocalWithFakes {
  local: LocalServer;
  slack: FakeSlack;
  pagerDuty: FakePagerDuty;
  // ── phones (WP2): the fake SNS / End User Messaging / SES ──
  /** SNS (SMS), End User Messaging (voice, from PHONE_ORIGINATION) and SES in one fake. */
  aws: FakeAwsMessaging;
  // ── end phones ──
  close(): Promise<void>;
}

export type LocalWithFakesOptions = Pick<LocalServerOptions, "webhookToken" | "apiToken"> &
  Partial<
    Pick<
      LocalServerOptions,
      "timeScale" | "slack" | "dataDir" | "grafanaHmacSecret" | "grafanaHeaders" | "onStateEntered"
    >
  > & {
    /** The config to serve; the shipped tocsin.yaml (and its runbooks) by default. */
    config?: Config;
    /** The fake PagerDuty's account (users, services, tokens); FAKE_ACCOUNT by default. */
    pagerDutyAccount?: Partial<FakeAccount>;
  };

/** What the local server is given of the notifiers: everything but what it builds itself. */
type Notifiers = NonNullable<LocalServerOptions["notifiers"]>;

/**
 * tocsin's local server with the shipped tocsin.yaml and runbooks (or the given config), each
 * vendor pointed at its fake on 127.0.0.1 (PagerDuty over HTTPS with a certificate made for
 * the run). Each fake is one delimited block: it starts, says what the notifiers are given,
 * and is closed after the server.
 */
export async function startLocalWithFakes(options: LocalWithFakesOptions): Promise<LocalWithFakes> {
  const closing: Array<() => Promise<void>> = [];
  const notifiers: Notifiers & Partial<Pick<NotifierSettings, "sms" | "voice">> = {
    slack: {},
    pagerDuty: {},
  };
  try {
    // ── Slack (WP4): Web API, DMs ──
    const slack = await FakeSlack.start({ token: BOT_TOKEN });
    closing.push(() => slack.close());
    notifiers.slack = { token: BOT_TOKEN, apiUrl: slack.apiUrl };
    // ── end Slack ──

    // ── PagerDuty (WP3): Events v2, REST, webhooks ──
    const pagerDuty = await FakePagerDuty.start({ account: options.pagerDutyAccount });
    closing.push(() => pagerDuty.close());
    notifiers.pagerDuty = {
      routingKey: ROUTING_KEY,
      server: pagerDuty.server,
      ca: pagerDuty.ca,
      rest: { token: (options.pagerDutyAccount?.tokens ?? FAKE_ACCOUNT.tokens)[0]! },
    };
    // ── end PagerDuty ──

    // ── phones (WP2): SNS SMS, End User Messaging voice, SES email ──
    const aws = await FakeAwsMessaging.start({
      voiceOriginations: [PHONE_ORIGINATION],
      emailIdentities: [EMAIL_FROM],
    });
    const awsClients = { ...aws.clientConfig(), maxAttempts: 1 };
    const snsClient = new SNSClient(awsClients);
    const voiceClient = new PinpointSMSVoiceV2Client(awsClients);
    const sesClient = new SESv2Client(awsClients);
    closing.push(async () => {
      snsClient.destroy();
      voiceClient.destroy();
      sesClient.destroy();
      await aws.close();
    });
    notifiers.sms = { sns: snsClient, originationNumber: PHONE_ORIGINATION };
    notifiers.voice = { client: voiceClient, originationIdentity: PHONE_ORIGINATION };
    notifiers.email = { ses: { client: sesClient, from: EMAIL_FROM } };
    // ── end phones ──

    // ── links (WP4): acknowledgement links, opened at the server's own URL ──
    const links = { keys: [LINK_KEY] };
    // ── end links ──

    const files = options.config ? { config: options.config, runbooks: [] } : undefined;
    const { config, runbooks } = files ?? loadServiceFiles("tocsin.yaml");
    const local = await startLocalServer({
      config,
      runbooks,
      host: "127.0.0.1",
      port: 0,
      dataDir: options.dataDir ?? ":memory:",
      webhookToken: options.webhookToken,
      apiToken: options.apiToken,
      ...(options.timeScale ? { timeScale: options.timeScale } : {}),
      ...(options.slack ? { slack: options.slack } : {}),
      grafanaHmacSecret: options.grafanaHmacSecret,
      grafanaHeaders: options.grafanaHeaders,
      ...(options.onStateEntered ? { onStateEntered: options.onStateEntered } : {}),
      notifiers,
      links,
      pagerDutyWebhookSecrets: PAGERDUTY_WEBHOOK_SECRET, // PagerDuty (WP3)
      logger: new Logger({ serviceName: "tocsin", logLevel: "ERROR" }),
    });
    // The server stops first: nothing is sent to a fake that is gone.
    closing.unshift(() => local.close());
    // PagerDuty (WP3): the fake's webhook subscription delivers to the server.
    pagerDuty.subscribe({
      url: `${local.url}/webhooks/pagerduty`,
      secrets: [PAGERDUTY_WEBHOOK_SECRET],
    });
    return {
      local,
      slack,
      pagerDuty,
      aws, // phones (WP2)
      close: async () => {
        for (const close of closing.splice(0)) await close();
      },
    };
  } catch (error) {
    for (const close of closing.splice(0).reverse()) await close().catch(() => undefined);
    throw error;
  }
}

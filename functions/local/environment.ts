import { randomBytes } from "node:crypto";
import { phoneSettings } from "../entry/phones.js";
import {
  type GrafanaSignatureHeaders,
  grafanaSignatureHeaders,
} from "../integrations/grafana/signature.js";
import type { SmsSettings } from "../integrations/sms/notifier.js";
import type { VoiceSettings } from "../integrations/voice/notifier.js";

export interface LocalSettings {
  port: number;
  host: string;
  configPath: string;
  dataDir: string;
  webhookToken: string;
  apiToken: string;
  grafanaHmacSecret: string | undefined;
  grafanaHeaders: GrafanaSignatureHeaders;
  timeScale: number;
  /**
   * Local only: the port embedded DynamoDB listens on (0: any free one), and where the
   * service sends its DynamoDB requests when not straight to it (a fault proxy in front of it).
   */
  dynamo: { port: number; endpoint: string | undefined };
  slack: { signingSecret?: string | undefined; teamId?: string | undefined };
  pagerDutyWebhookSecrets: string | undefined;
  notifiers: {
    slack: { token?: string | undefined; apiUrl?: string | undefined };
    pagerDuty: {
      routingKey?: string | undefined;
      server?: string | undefined;
      keyFromEnv: (name: string) => string | undefined;
      rest?: { token: string } | undefined;
    };
    // ── phones (WP2): SNS SMS, End User Messaging voice; unset: the local outbox ──
    sms?: SmsSettings | undefined;
    voice?: VoiceSettings | undefined;
    // ── end phones ──
  };
  /**
   * Acknowledgement links: the keys (TOCSIN_LINK_KEY, a comma list during a rotation, the
   * signing key first) and the URL people open them at (TOCSIN_PUBLIC_URL).
   */
  links: { keys: string[]; publicUrl: string | undefined };
  /** Which tokens were generated here rather than given, so the banner can say so. */
  generated: Array<"webhook" | "api" | "link">;
}

const token = () => randomBytes(24).toString("base64url");

/** SMS and voice as the escalation function builds them, without the reply book (no two-way topic locally). */
function localPhones(env: NodeJS.ProcessEnv): { sms?: SmsSettings; voice?: VoiceSettings } {
  if (env.TOCSIN_SMS && env.TOCSIN_SMS !== "sns" && env.TOCSIN_SMS !== "outbox")
    throw new Error(`TOCSIN_SMS must be sns or outbox, not ${env.TOCSIN_SMS}`);
  const { sms, voice } = phoneSettings(env, (client) => client);
  return { ...(sms ? { sms } : {}), ...(voice ? { voice } : {}) };
}

/** Reads the local server's settings (DESIGN.md, Environment) from `env`. */
export function localSettings(env: NodeJS.ProcessEnv): LocalSettings {
  const generated: LocalSettings["generated"] = [];
  if (!env.TOCSIN_WEBHOOK_TOKEN) generated.push("webhook");
  if (!env.TOCSIN_API_TOKEN) generated.push("api");
  const webhookToken = env.TOCSIN_WEBHOOK_TOKEN || token();
  const apiToken = env.TOCSIN_API_TOKEN || token();
  const linkKeys = (env.TOCSIN_LINK_KEY ?? "")
    .split(",")
    .map((key) => key.trim())
    .filter((key) => key !== "");
  if (linkKeys.length === 0) {
    generated.push("link");
    linkKeys.push(token());
  }
  const publicUrl = env.TOCSIN_PUBLIC_URL || undefined;
  if (publicUrl && !(URL.canParse(publicUrl) && /^https?:$/.test(new URL(publicUrl).protocol)))
    throw new Error(`TOCSIN_PUBLIC_URL must be an http(s) URL, not ${publicUrl}`);
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, not ${env.PORT}`);
  const timeScale = Number(env.TOCSIN_TIME_SCALE ?? 1);
  if (!Number.isFinite(timeScale) || timeScale < 1) {
    throw new Error(
      `TOCSIN_TIME_SCALE must be a number of at least 1, not ${env.TOCSIN_TIME_SCALE}`,
    );
  }
  const dynamoPort = Number(env.TOCSIN_DYNAMODB_PORT || 0);
  if (!Number.isInteger(dynamoPort) || dynamoPort < 0 || dynamoPort > 65535)
    throw new Error(`TOCSIN_DYNAMODB_PORT must be a port number, not ${env.TOCSIN_DYNAMODB_PORT}`);
  const dynamoEndpoint = env.TOCSIN_DYNAMODB_ENDPOINT || undefined;
  if (
    dynamoEndpoint &&
    !(URL.canParse(dynamoEndpoint) && /^https?:$/.test(new URL(dynamoEndpoint).protocol))
  )
    throw new Error(`TOCSIN_DYNAMODB_ENDPOINT must be an http(s) URL, not ${dynamoEndpoint}`);
  return {
    port,
    host: env.HOST || "127.0.0.1",
    configPath: env.TOCSIN_CONFIG || "tocsin.yaml",
    dataDir: env.TOCSIN_DATA_DIR || ".data",
    webhookToken,
    apiToken,
    grafanaHmacSecret: env.TOCSIN_GRAFANA_HMAC_SECRET || undefined,
    grafanaHeaders: grafanaSignatureHeaders(env),
    timeScale,
    dynamo: { port: dynamoPort, endpoint: dynamoEndpoint },
    slack: {
      signingSecret: env.SLACK_SIGNING_SECRET || undefined,
      teamId: env.SLACK_TEAM_ID || undefined,
    },
    pagerDutyWebhookSecrets: env.PAGERDUTY_WEBHOOK_SECRETS || undefined,
    notifiers: {
      slack: { token: env.SLACK_BOT_TOKEN || undefined, apiUrl: env.SLACK_API_URL || undefined },
      pagerDuty: {
        routingKey: env.PAGERDUTY_ROUTING_KEY || undefined,
        server: env.PAGERDUTY_SERVER || undefined,
        keyFromEnv: (name) => env[name] || undefined,
        rest: env.PAGERDUTY_API_TOKEN ? { token: env.PAGERDUTY_API_TOKEN } : undefined,
      },
      // ── phones (WP2): TOCSIN_SMS=sns, TOCSIN_VOICE_ORIGINATION (AWS_ENDPOINT_URL_SNS, _PINPOINT_SMS_VOICE_V2 for fakes) ──
      ...localPhones(env),
      // ── end phones ──
    },
    links: { keys: linkKeys, publicUrl },
    generated,
  };
}

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PinpointSMSVoiceV2Client } from "@aws-sdk/client-pinpoint-sms-voice-v2";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { SNSClient } from "@aws-sdk/client-sns";
import { AWS_CALL_POLICY, awsClientConfig } from "../adapters/aws-clients.js";
import type { SmsSettings } from "../integrations/sms/notifier.js";
import { DynamoSmsReplyBook } from "../integrations/sms/reply-book.js";
import type { VoiceSettings } from "../integrations/voice/notifier.js";

/** One request per attempt: the delivery pipeline's retry stage retries, not the SDK. */
const ONE_ATTEMPT = () => awsClientConfig({ ...AWS_CALL_POLICY, maxAttempts: 1 });

/**
 * The escalation function's phones and personal email, from its environment (set by
 * lib/constructs/phone-messaging.ts): SMS through SNS when TOCSIN_SMS=sns (from
 * TOCSIN_SMS_ORIGINATION or TOCSIN_SMS_SENDER_ID; the reply book when TOCSIN_SMS_REPLIES=1),
 * voice when TOCSIN_VOICE_ORIGINATION is set (TOCSIN_VOICE_ID, JOANNA by default), SES for a
 * person's email when TOCSIN_EMAIL_FROM is set. `wrap` traces each client.
 */
export function phoneSettings(
  env: Record<string, string | undefined>,
  wrap: <T>(client: T) => T,
  /** Where the reply book lives; without it (the local server) texts offer no reply. */
  table?: { dynamodb: DynamoDBClient; tableName: string },
): {
  sms: SmsSettings | undefined;
  voice: VoiceSettings | undefined;
  ses: { client: SESv2Client; from: string } | undefined;
} {
  const sms: SmsSettings | undefined =
    env.TOCSIN_SMS === "sns"
      ? {
          sns: wrap(new SNSClient(ONE_ATTEMPT())),
          originationNumber: env.TOCSIN_SMS_ORIGINATION || undefined,
          senderId: env.TOCSIN_SMS_SENDER_ID || undefined,
          replyBook:
            env.TOCSIN_SMS_REPLIES === "1" && table
              ? new DynamoSmsReplyBook(table.dynamodb, table.tableName)
              : undefined,
        }
      : undefined;
  const origination = env.TOCSIN_VOICE_ORIGINATION || undefined;
  const voice: VoiceSettings | undefined = origination
    ? {
        client: wrap(new PinpointSMSVoiceV2Client(ONE_ATTEMPT())),
        originationIdentity: origination,
        voiceId: env.TOCSIN_VOICE_ID || undefined,
      }
    : undefined;
  const from = env.TOCSIN_EMAIL_FROM || undefined;
  const ses = from ? { client: wrap(new SESv2Client(ONE_ATTEMPT())), from } : undefined;
  return { sms, voice, ses };
}

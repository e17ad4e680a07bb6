import type { Logger } from "@aws-lambda-powertools/logger";
import { type MessageAttributeValue, PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { awsRefusal } from "../../adapters/aws-clients.js";
import type { DeliveryOutcome, Notification, Notifier } from "../../core/notification.js";
import { describeError, NOT_DELIVERED_NO_CREDENTIALS } from "../../delivery/outcomes.js";
import { maskPhone, maskPhonesIn, smsText } from "./message.js";
import type { SmsReplyBook } from "./reply-book.js";

export interface SmsNotifierOptions {
  /** SNS, built with maxAttempts 1 (the delivery pipeline retries). */
  sns?: SNSClient | undefined;
  /** `AWS.MM.SMS.OriginationNumber`: the number texts come from; replies need one. */
  originationNumber?: string | undefined;
  /** `AWS.SNS.SMS.SenderID`, where the destination country allows alphanumeric senders. */
  senderId?: string | undefined;
  /** Local mode: where texts go without SNS (the console and .data/outbox/; any email/outbox.ts Outbox). */
  outbox?: ((message: { kind: "sms"; to: string; body: string }) => Promise<void>) | undefined;
  /** Two-way SMS: which incident each number was last texted, so that a reply of 1 acknowledges it. */
  replyBook?: SmsReplyBook | undefined;
  logger: Logger;
  now?: () => Date;
}

/**
 * SMS through SNS Publish with PhoneNumber, transactional (SNS routes those for reliability,
 * not price). One Publish per call. SNS answering a MessageId means it accepted the text, not
 * that the handset got it (an opted-out or, in the sandbox, unverified number never does), so
 * the outcome says exactly that. Throttling, 5xx and no answer are retryable; a retried
 * Publish after no answer may send a second text (at least once). Any other refusal is final
 * with SNS's code. The phone is masked in every detail.
 * https://docs.aws.amazon.com/sns/latest/dg/sms_publish-to-phone.html
 */
export class SmsNotifier implements Notifier {
  readonly kind = "sms" as const;

  constructor(private readonly options: SmsNotifierOptions) {}

  async send(notification: Notification): Promise<DeliveryOutcome> {
    const { channel } = notification;
    if (channel.type !== "sms") {
      return {
        status: "failed",
        detail: `channel ${notification.channelId} is not an SMS destination`,
      };
    }
    const { sns, outbox } = this.options;
    if (!sns && !outbox) return { ...NOT_DELIVERED_NO_CREDENTIALS };
    const to = maskPhone(channel.phone);
    const replies = !!sns && !!this.options.replyBook && !!this.options.originationNumber;
    const text = smsText(notification, { ackLink: notification.links?.acknowledge, replies });

    if (!sns) {
      try {
        await outbox!({ kind: "sms", to: channel.phone, body: text });
        return { status: "delivered", detail: "written to the local outbox" };
      } catch (error) {
        return { status: "failed", detail: `local outbox failed: ${describeError(error)}` };
      }
    }

    let messageId: string;
    try {
      const result = await sns.send(
        new PublishCommand({
          PhoneNumber: channel.phone,
          Message: text,
          MessageAttributes: this.attributes(),
        }),
      );
      messageId = result.MessageId ?? "without id";
    } catch (error) {
      return awsRefusal(error, `SNS did not accept the SMS to ${to}`, maskPhonesIn);
    }
    if (this.options.replyBook)
      await this.rememberForReplies(channel.phone, notification.incident.id);
    return {
      status: "delivered",
      detail: `accepted by SNS for ${to} (message ${messageId}); handset delivery not confirmed`,
      providerId: messageId,
    };
  }

  private attributes(): Record<string, MessageAttributeValue> {
    const attributes: Record<string, MessageAttributeValue> = {
      "AWS.SNS.SMS.SMSType": { DataType: "String", StringValue: "Transactional" },
    };
    const { originationNumber, senderId } = this.options;
    if (originationNumber)
      attributes["AWS.MM.SMS.OriginationNumber"] = {
        DataType: "String",
        StringValue: originationNumber,
      };
    if (senderId)
      attributes["AWS.SNS.SMS.SenderID"] = { DataType: "String", StringValue: senderId };
    return attributes;
  }

  /** The text is sent: a reply book that fails costs the reply path, never the page. */
  private async rememberForReplies(phone: string, incidentId: string): Promise<void> {
    try {
      const at = (this.options.now?.() ?? new Date()).toISOString();
      await this.options.replyBook!.remember(phone, incidentId, at);
    } catch (error) {
      this.options.logger.warn(
        "SMS reply book not updated: a reply to this text will not acknowledge",
        {
          event: "sms_reply_book_failed",
          incidentId,
          to: maskPhone(phone),
          error: describeError(error),
        },
      );
    }
  }
}

/** What the SMS notifier is configured with (delivery/registry.ts NotifierSettings.sms). */
export type SmsSettings = Omit<SmsNotifierOptions, "logger">;

/** The SMS notifier from its settings; with neither SNS nor an outbox it answers not_delivered. */
export function smsNotifier(settings: SmsSettings | undefined, logger: Logger): SmsNotifier {
  return new SmsNotifier({ ...settings, logger });
}

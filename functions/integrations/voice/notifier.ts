import {
  type PinpointSMSVoiceV2Client,
  SendVoiceMessageCommand,
  type VoiceId,
} from "@aws-sdk/client-pinpoint-sms-voice-v2";
import { awsRefusal } from "../../adapters/aws-clients.js";
import type { DeliveryOutcome, Notification, Notifier } from "../../core/notification.js";
import { describeError, NOT_DELIVERED_NO_CREDENTIALS } from "../../delivery/outcomes.js";
import { maskPhone, maskPhonesIn } from "../sms/message.js";
import { voiceScript } from "./message.js";

/** A call nobody picks up within five minutes is over: the next rule (or level) takes over. */
const TIME_TO_LIVE_SECONDS = 300;

export interface VoiceNotifierOptions {
  /** End User Messaging SMS and Voice v2, built with maxAttempts 1 (the pipeline retries). */
  client?: PinpointSMSVoiceV2Client | undefined;
  /** The voice-capable phone number (or its id or ARN, or a pool) calls come from (TOCSIN_VOICE_ORIGINATION). */
  originationIdentity?: string | undefined;
  /** The Amazon Polly voice; JOANNA unless set. */
  voiceId?: string | undefined;
  /** Local mode: where calls go without End User Messaging (the console and .data/outbox/). */
  outbox?: ((message: { kind: "voice"; to: string; body: string }) => Promise<void>) | undefined;
  /** Whether the person's texts and Slack messages carry acknowledgement links (the script says where to look). */
  links?: boolean | undefined;
  /** Whether a reply of 1 to the text acknowledges (two-way SMS). */
  replies?: boolean | undefined;
}

/**
 * Voice calls through End User Messaging SendVoiceMessage: text to speech, read twice. The
 * call is one-way (no keypress comes back), so it says where to acknowledge. A MessageId
 * means the call was placed, not answered. ThrottlingException, InternalServerException and
 * no answer are retryable; ValidationException (its Reason: a number the identity cannot
 * call, a country not enabled), ServiceQuotaExceededException (daily calls to a destination,
 * the monthly voice spend limit), AccessDenied, ResourceNotFound and Conflict are final.
 * https://docs.aws.amazon.com/sms-voice/latest/APIReference/API_SendVoiceMessage.html
 */
export class VoiceNotifier implements Notifier {
  readonly kind = "voice" as const;

  constructor(private readonly options: VoiceNotifierOptions = {}) {}

  async send(notification: Notification): Promise<DeliveryOutcome> {
    const { channel } = notification;
    if (channel.type !== "voice") {
      return {
        status: "failed",
        detail: `channel ${notification.channelId} is not a voice destination`,
      };
    }
    const { client, originationIdentity, outbox } = this.options;
    const live = client && originationIdentity;
    if (!live && !outbox) return { ...NOT_DELIVERED_NO_CREDENTIALS };
    const to = maskPhone(channel.phone);
    const script = voiceScript(notification, {
      links: this.options.links ?? notification.links !== undefined,
      replies: this.options.replies,
    });
    if (!live) {
      try {
        await outbox!({ kind: "voice", to: channel.phone, body: script });
        return { status: "delivered", detail: "written to the local outbox" };
      } catch (error) {
        return { status: "failed", detail: `local outbox failed: ${describeError(error)}` };
      }
    }
    try {
      const result = await client.send(
        new SendVoiceMessageCommand({
          DestinationPhoneNumber: channel.phone,
          OriginationIdentity: originationIdentity,
          MessageBody: script,
          MessageBodyTextType: "SSML",
          VoiceId: (this.options.voiceId ?? "JOANNA") as VoiceId,
          TimeToLive: TIME_TO_LIVE_SECONDS,
        }),
      );
      const id = result.MessageId ?? "without id";
      return {
        status: "delivered",
        detail: `call placed by End User Messaging to ${to} (message ${id}); answer not confirmed`,
        providerId: id,
      };
    } catch (error) {
      return awsRefusal(error, `End User Messaging did not place the call to ${to}`, maskPhonesIn);
    }
  }
}

/** What the voice notifier is configured with (delivery/registry.ts NotifierSettings.voice). */
export type VoiceSettings = VoiceNotifierOptions;

/** The voice notifier from its settings; without a client and identity, or an outbox, it answers not_delivered. */
export function voiceNotifier(settings: VoiceSettings | undefined): VoiceNotifier {
  return new VoiceNotifier(settings);
}

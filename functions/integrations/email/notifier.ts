import { type SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { isServiceFault as isAwsServiceFault } from "../../adapters/aws-clients.js";
import type { DeliveryOutcome, Notification, Notifier } from "../../core/notification.js";
import { describeError, NOT_DELIVERED_NO_CREDENTIALS } from "../../delivery/outcomes.js";
import { emailBody, emailSubject } from "./message.js";
import type { EmailOutbox } from "./outbox.js";

export interface EmailNotifierOptions {
  /** SNS and the topic whose email subscriptions deliver to each address. */
  sns?: { client: SNSClient; topics: Readonly<Record<string, string>> } | undefined;
  /** Local mode: where emails without a topic go instead (see fileOutbox). */
  outbox?: EmailOutbox | undefined;
  /**
   * A person's own email (a personal delivery): SES v2 SendEmail from a verified identity,
   * straight to the address, with no subscription to confirm and no unsubscribe link that
   * would silently stop their pages. Without it, personal emails go to the outbox.
   */
  ses?: { client: SESv2Client; from: string } | undefined;
}

/**
 * Emails through SNS: one PublishCommand to the topic of the channel's address, subject
 * and plain-text body from email-message.ts. One attempt per call (the client is built with
 * maxAttempts 1, so the SDK does not retry behind the delivery pipeline's back): a failure is
 * `failed` with the error's name, retryable when it was SNS's fault (5xx, throttling, no
 * answer) rather than the request's.
 * Addresses without a topic go to the outbox when there is one, else are not delivered.
 */
export class EmailNotifier implements Notifier {
  readonly kind = "email" as const;

  constructor(private readonly options: EmailNotifierOptions = {}) {}

  async send(notification: Notification): Promise<DeliveryOutcome> {
    const { channel } = notification;
    if (channel.type !== "email") {
      return {
        status: "failed",
        detail: `channel ${notification.channelId} is not an email channel`,
      };
    }
    const to = channel.address;
    if (notification.contact) return this.sendToPerson(notification, to);
    const topicArn = this.options.sns?.topics[to];
    const { outbox } = this.options;
    if (!topicArn && !outbox) return { ...NOT_DELIVERED_NO_CREDENTIALS };

    let message: { to: string; subject: string; body: string };
    try {
      message = { to, subject: emailSubject(notification), body: emailBody(notification) };
    } catch (error) {
      return { status: "failed", detail: `email not composed: ${describeError(error)}` };
    }

    if (topicArn && this.options.sns) {
      try {
        const result = await this.options.sns.client.send(
          new PublishCommand({
            TopicArn: topicArn,
            Subject: message.subject,
            Message: message.body,
          }),
        );
        return {
          status: "delivered",
          detail: `published to SNS for ${to} (message ${result.MessageId ?? "without id"})`,
        };
      } catch (error) {
        const name = error instanceof Error ? error.name : "Error";
        const reason = error instanceof Error ? `: ${error.message.slice(0, 200)}` : "";
        return {
          status: "failed",
          detail: `SNS publish failed: ${name}${reason}`,
          retryable: isServiceFault(error),
        };
      }
    }
    try {
      await outbox!(message);
      return { status: "delivered", detail: "written to the local outbox" };
    } catch (error) {
      return { status: "failed", detail: `local outbox failed: ${describeError(error)}` };
    }
  }

  /**
   * SES v2 SendEmail to the person. MessageRejected (in the sandbox: a recipient not verified),
   * MailFromDomainNotVerified, AccountSuspended, SendingPaused, BadRequest and NotFound are
   * final; TooManyRequests, LimitExceeded, 5xx and no answer are retryable.
   * https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html
   */
  private async sendToPerson(notification: Notification, to: string): Promise<DeliveryOutcome> {
    const { ses, outbox } = this.options;
    if (!ses && !outbox) return { ...NOT_DELIVERED_NO_CREDENTIALS };
    let message: { to: string; subject: string; body: string };
    try {
      message = { to, subject: emailSubject(notification), body: emailBody(notification) };
    } catch (error) {
      return { status: "failed", detail: `email not composed: ${describeError(error)}` };
    }
    if (!ses) {
      try {
        await outbox!(message);
        return { status: "delivered", detail: "written to the local outbox" };
      } catch (error) {
        return { status: "failed", detail: `local outbox failed: ${describeError(error)}` };
      }
    }
    try {
      const result = await ses.client.send(
        new SendEmailCommand({
          FromEmailAddress: ses.from,
          Destination: { ToAddresses: [to] },
          Content: {
            Simple: {
              Subject: { Data: message.subject, Charset: "UTF-8" },
              Body: { Text: { Data: message.body, Charset: "UTF-8" } },
            },
          },
        }),
      );
      const id = result.MessageId ?? "without id";
      return {
        status: "delivered",
        detail: `accepted by SES for ${to} (message ${id})`,
        providerId: id,
      };
    } catch (error) {
      const name = error instanceof Error ? error.name : "Error";
      const reason =
        error instanceof Error && error.message ? `: ${error.message.slice(0, 200)}` : "";
      return {
        status: "failed",
        detail: `SES did not accept the email to ${to}: ${name}${reason}`,
        retryable: isAwsServiceFault(error),
      };
    }
  }
}

/** A fault of the service or the network, as the SDK marks them, not a refused request. */
function isServiceFault(error: unknown): boolean {
  const sdk = error as {
    $fault?: string;
    $metadata?: unknown;
    $retryable?: unknown;
    name?: string;
  };
  return (
    sdk.$metadata === undefined ||
    sdk.$fault === "server" ||
    sdk.$retryable !== undefined ||
    sdk.name === "ThrottledException" ||
    sdk.name === "ThrottlingException"
  );
}

/** What email channels are configured with (delivery/registry.ts NotifierSettings). */
export type EmailSettings = EmailNotifierOptions;

/** The email notifier from its settings; with neither SNS nor an outbox it answers not_delivered. */
export function emailNotifier(settings: EmailSettings): EmailNotifier {
  return new EmailNotifier({ sns: settings.sns, outbox: settings.outbox, ses: settings.ses });
}

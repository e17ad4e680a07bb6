import type { DeliveryOutcome } from "../core/notification.js";

/** The timeline detail of a notification skipped for want of a token, key or topic. */
export const NO_CREDENTIALS = "not delivered: no credentials";

/** What a notifier answers when it has nothing to send with: nothing is sent. */
export const NOT_DELIVERED_NO_CREDENTIALS: Readonly<DeliveryOutcome> = {
  status: "not_delivered",
  reason: "no_credentials",
  detail: NO_CREDENTIALS,
};

/** `Name: message` of anything thrown, for a timeline detail. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { TableClient } from "../../adapters/dynamodb/table-client.js";

/**
 * Which incident a reply to our SMS is about: the latest one texted to that number, as GoAlert
 * does when a reply carries no code. A person paged for two incidents at once who replies `1`
 * acknowledges the newer one, the one whose text is on top of their thread.
 *
 * Errors: StoreUnavailableError is retryable; nothing else is expected.
 */
export interface SmsReplyBook {
  /** Remembers that `incidentId` was texted to `phone` at `at` (ISO-8601); an older text never wins. */
  remember(phone: string, incidentId: string, at: string): Promise<void>;
  /** The latest incident texted to `phone`, or null. */
  latest(phone: string): Promise<{ incidentId: string; sentAt: string } | null>;
}

/** The partition keys of the reply book: IAM lets the escalation function put these and no other. */
export const SMS_LAST_KEY_PREFIX = "SMSLAST#";

/** How long a number's latest text is remembered: replies come within minutes, never after a month. */
const KEEP_SECONDS = 30 * 24 * 3600;

/**
 * The reply book on the incidents' table: one item `SMSLAST#<e164>` / `LATEST` per number,
 * written by a conditional PutItem that only a newer text wins, and removed by TTL a month on.
 * It carries no index keys, so it never shows in the incident lists.
 */
export class DynamoSmsReplyBook implements SmsReplyBook {
  private readonly table: TableClient;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new TableClient(client, tableName);
  }

  async remember(phone: string, incidentId: string, at: string): Promise<void> {
    await this.table.putIf({
      Item: {
        ...key(phone),
        incidentId,
        sentAt: at,
        expiresAt: Math.floor(Date.parse(at) / 1000) + KEEP_SECONDS,
      },
      ConditionExpression: "attribute_not_exists(pk) OR sentAt < :at",
      ExpressionAttributeValues: { ":at": at },
    });
  }

  async latest(phone: string): Promise<{ incidentId: string; sentAt: string } | null> {
    const item = await this.table.get(key(phone));
    if (!item || typeof item.incidentId !== "string" || typeof item.sentAt !== "string")
      return null;
    return { incidentId: item.incidentId, sentAt: item.sentAt };
  }
}

function key(phone: string) {
  return { pk: `${SMS_LAST_KEY_PREFIX}${phone}`, sk: "LATEST" };
}

/** The reply book in memory (tests, and the local server's two-way fake). */
export class MemorySmsReplyBook implements SmsReplyBook {
  private readonly entries = new Map<string, { incidentId: string; sentAt: string }>();

  async remember(phone: string, incidentId: string, at: string): Promise<void> {
    const known = this.entries.get(phone);
    if (!known || known.sentAt < at) this.entries.set(phone, { incidentId, sentAt: at });
  }

  async latest(phone: string): Promise<{ incidentId: string; sentAt: string } | null> {
    return this.entries.get(phone) ?? null;
  }
}

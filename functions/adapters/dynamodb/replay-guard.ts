import { randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { ReplayGuard } from "../../core/replay-guard.js";
import { TableClient } from "./table-client.js";

/** The partition keys of replay records: IAM lets the Slack function put these and no other. */
export const REPLAY_KEY_PREFIX = "SEEN#";

/** Epoch seconds, as the TTL attribute holds them. */
const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/**
 * The replay guard on the incidents' table: one item `SEEN#<key>` / `SEEN` per request,
 * written with a conditional PutItem (so concurrent deliveries get one winner) and deleted
 * by DynamoDB's TTL (`expiresAt`) once its window is over. TTL deletes lazily (within days),
 * so the condition also lets an expired record be written over. The item carries no index
 * keys, so it never shows in the incident lists. One write per request that acts; a request
 * refused for the incident's state first reads whether it acted before (one GetItem).
 *
 * Each write carries a token of its own call: when the SDK retries a PutItem whose answer
 * was lost (a timeout, a reset connection) after DynamoDB wrote it, the retry's condition
 * fails on that very record, and only the token tells the call's own record from another
 * copy's (a read, on that failure alone: DynamoDB's ReturnValuesOnConditionCheckFailure
 * would save it, but dynalite, which the tests and `npm start` run on, ignores it).
 */
export class DynamoReplayGuard implements ReplayGuard {
  private readonly table: TableClient;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new TableClient(client, tableName);
  }

  async firstSeen(key: string, window: { now: string; until: string }): Promise<boolean> {
    const claim = randomUUID();
    const written = await this.table.putIf({
      Item: { ...this.key(key), expiresAt: epochSeconds(window.until), claim },
      ConditionExpression: "attribute_not_exists(pk) OR expiresAt < :now",
      ExpressionAttributeValues: { ":now": epochSeconds(window.now) },
    });
    if (written !== undefined) return true;
    // Refused: another copy's record, or this call's own, written by an attempt whose answer was lost.
    return (await this.table.get(this.key(key)))?.claim === claim;
  }

  async seen(key: string, now: string): Promise<boolean> {
    const item = await this.table.get(this.key(key));
    return item !== undefined && Number(item.expiresAt) >= epochSeconds(now);
  }

  private key(key: string) {
    return { pk: `${REPLAY_KEY_PREFIX}${key}`, sk: "SEEN" };
  }
}

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoIncidentStore } from "../adapters/dynamodb/incident-store.js";
import { DynamoReplayGuard } from "../adapters/dynamodb/replay-guard.js";
import type { Config } from "../core/config.js";

/** The incidents on one DynamoDB table, kept for the config's retention (DynamoDB TTL). */
export function dynamoIncidentStore(client: DynamoDBClient, tableName: string, config: Config) {
  return new DynamoIncidentStore(client, tableName, {
    ...(config.retention ? { retentionSeconds: config.retention } : {}),
  });
}

/**
 * Every store on one DynamoDB table (the Slack function, and `npm start` on embedded
 * DynamoDB): the incidents and Slack's replay guard. A function that takes no Slack click
 * builds the incident store alone, and its bundle carries no replay guard.
 */
export function dynamoStores(client: DynamoDBClient, tableName: string, config: Config) {
  return {
    incidents: dynamoIncidentStore(client, tableName, config),
    replayGuard: new DynamoReplayGuard(client, tableName),
  };
}

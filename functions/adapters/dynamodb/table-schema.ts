import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { INCIDENT_SUMMARY_FIELDS } from "../../core/incident-store.js";

/**
 * The single table's keys and indexes, shared by the CDK stack and the local bootstrap so
 * the two cannot drift. Items:
 * - `FP#<fingerprint>` / `FP`: the fingerprint's open incident id and its live counters.
 * - `INC#<id>` / `INC`: the incident with its timeline.
 */
export const TABLE_KEYS = { partition: "pk", sort: "sk" } as const;

/**
 * DynamoDB's time-to-live attribute (epoch seconds): an incident, with its timeline, and a
 * fingerprint not seen for the retention period are deleted by DynamoDB at no cost.
 */
export const TTL_ATTRIBUTE = "expiresAt";

/** How long incidents are kept by default: a bit more than a year of history for reports. */
export const DEFAULT_RETENTION_SECONDS = 400 * 86_400;

export const INDEXES = {
  byStatus: { name: "byStatus", partition: "statusKey", sort: "createdKey" },
  byTeam: { name: "byTeam", partition: "teamKey", sort: "createdKey" },
  byTime: { name: "byTime", partition: "kind", sort: "createdKey" },
} as const;

/**
 * The incidents whose channels are still owed their new state (`owedState`, written by the
 * acknowledge or resolve itself, removed once every channel is told), and no others: a
 * sparse index, keys only, so that finding what a lost mirror left to tell reads only those.
 */
export const OWED_STATE_INDEX = { name: "byOwedState", partition: "owedState" } as const;

/** The names of every index of the table, sorted (what access to the table must name). */
export const INDEX_NAMES: readonly string[] = [
  ...Object.values(INDEXES).map((index) => index.name),
  OWED_STATE_INDEX.name,
].sort();

/** Every incident field but the timeline: list pages show these, the timeline stays out of the indexes. */
export const SUMMARY_ATTRIBUTES = INCIDENT_SUMMARY_FIELDS;

/** CreateTable input for local and test tables (on AWS the CDK stack creates it). */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const indexes = Object.values(INDEXES);
  const keyNames = new Set<string>([
    TABLE_KEYS.partition,
    TABLE_KEYS.sort,
    ...indexes.flatMap((i) => [i.partition, i.sort]),
    OWED_STATE_INDEX.partition,
  ]);
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [...keyNames].map((name) => ({
      AttributeName: name,
      AttributeType: "S",
    })),
    KeySchema: [
      { AttributeName: TABLE_KEYS.partition, KeyType: "HASH" },
      { AttributeName: TABLE_KEYS.sort, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: [
      ...indexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partition, KeyType: "HASH" as const },
          { AttributeName: index.sort, KeyType: "RANGE" as const },
        ],
        Projection: {
          ProjectionType: "INCLUDE" as const,
          NonKeyAttributes: [...SUMMARY_ATTRIBUTES],
        },
      })),
      {
        IndexName: OWED_STATE_INDEX.name,
        KeySchema: [{ AttributeName: OWED_STATE_INDEX.partition, KeyType: "HASH" as const }],
        Projection: { ProjectionType: "KEYS_ONLY" as const },
      },
    ],
  };
}

import { RemovalPolicy } from "aws-cdk-lib";
import { AttributeType, BillingMode, ProjectionType, Table } from "aws-cdk-lib/aws-dynamodb";
import { Grant, type IGrantable } from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { REPLAY_KEY_PREFIX } from "../../functions/adapters/dynamodb/replay-guard.js";
import {
  INDEX_NAMES,
  INDEXES,
  OWED_STATE_INDEX,
  SUMMARY_ATTRIBUTES,
  TABLE_KEYS,
  TTL_ATTRIBUTE,
} from "../../functions/adapters/dynamodb/table-schema.js";

/** What ingest does: dedup by conditional UpdateItem, incident and timeline writes, reads. */
export const INGEST_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:Query",
  "dynamodb:BatchGetItem",
] as const;

/** What the read API does: nothing that writes. */
export const READ_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:Query",
  "dynamodb:BatchGetItem",
] as const;

/**
 * The single incident table. Keys and indexes come from table-schema.ts, which the local
 * bootstrap also reads, so the table on AWS and the one under `npm start` cannot drift.
 * It outlives the stack: incidents are the audit trail.
 */
export class IncidentTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, "Table", {
      partitionKey: { name: TABLE_KEYS.partition, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sort, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Incidents and idle fingerprints expire after the retention in tocsin.yaml (400 days by default).
      timeToLiveAttribute: TTL_ATTRIBUTE,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of Object.values(INDEXES)) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partition, type: AttributeType.STRING },
        sortKey: { name: index.sort, type: AttributeType.STRING },
        // List pages need the summary, never the timeline: keep the indexes small.
        projectionType: ProjectionType.INCLUDE,
        nonKeyAttributes: [...SUMMARY_ATTRIBUTES],
      });
    }
    this.table.addGlobalSecondaryIndex({
      indexName: OWED_STATE_INDEX.name,
      partitionKey: { name: OWED_STATE_INDEX.partition, type: AttributeType.STRING },
      projectionType: ProjectionType.KEYS_ONLY,
    });
  }

  /**
   * Allows exactly these actions on the table and its indexes. Explicit, unlike
   * Table.grantReadWriteData, which would also allow DeleteItem, Scan and the batch writes.
   * Each index is named rather than `index/*`: a Query on a GSI is authorised against the
   * index's ARN, and these are all the indexes there are.
   */
  grant(grantee: IGrantable, actions: readonly string[]): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: [...actions],
      resourceArns: this.arns(),
    });
  }

  /**
   * Allows writing replay records (DynamoReplayGuard) and nothing else: PutItem only where
   * the partition key starts with `SEEN#`, so the Slack function cannot overwrite incidents.
   */
  grantReplayRecords(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ["dynamodb:PutItem"],
      // The indexes too, as every statement names them (PutItem on an index means nothing).
      resourceArns: this.arns(),
      conditions: {
        "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${REPLAY_KEY_PREFIX}*`] },
      },
    });
  }

  /**
   * Allows PutItem only where the partition key starts with `prefix` (the SMS reply book's
   * `SMSLAST#`): a function that may write those cannot overwrite an incident.
   */
  grantPutItems(grantee: IGrantable, prefix: string): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ["dynamodb:PutItem"],
      resourceArns: this.arns(),
      conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${prefix}*`] } },
    });
  }

  /** The table and each of its indexes. */
  private arns(): string[] {
    return [
      this.table.tableArn,
      ...INDEX_NAMES.map((name) => `${this.table.tableArn}/index/${name}`),
    ];
  }
}

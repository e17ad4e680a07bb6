import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  type PutCommandOutput,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandInput,
  type ScanCommandOutput,
  UpdateCommand,
  type UpdateCommandInput,
  type UpdateCommandOutput,
} from "@aws-sdk/lib-dynamodb";
import { StoreUnavailableError } from "../../core/errors.js";
import { isServiceFault } from "../aws-clients.js";

type Key = Record<string, string>;

/** Most keys one BatchGetItem takes. */
export const BATCH_GET_LIMIT = 100;
type Item = Record<string, unknown>;
type WithoutTable<T> = Omit<T, "TableName">;

/**
 * The one table the stores use, one request per method: reads are consistent, service faults
 * become StoreUnavailableError, and the conditional writes (`updateIf`, `putIf`) answer
 * undefined when their condition fails instead of throwing.
 */
export class TableClient {
  private readonly db: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly name: string,
  ) {
    this.db = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
  }

  async get(key: Key): Promise<Item | undefined> {
    const { Item } = await this.call(() =>
      this.db.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: true })),
    );
    return Item;
  }

  /**
   * One BatchGetItem (at most 100 keys), of the `attributes` named if given; keys DynamoDB
   * leaves unprocessed are missing.
   */
  async batchGet(keys: Key[], attributes?: readonly string[]): Promise<Item[]> {
    const projection = attributes
      ? {
          ProjectionExpression: attributes.map((_, i) => `#a${i}`).join(", "),
          ExpressionAttributeNames: Object.fromEntries(attributes.map((a, i) => [`#a${i}`, a])),
        }
      : {};
    const { Responses } = await this.call(() =>
      this.db.send(
        new BatchGetCommand({
          RequestItems: { [this.name]: { Keys: keys, ConsistentRead: true, ...projection } },
        }),
      ),
    );
    return Responses?.[this.name] ?? [];
  }

  query(input: WithoutTable<QueryCommandInput>): Promise<QueryCommandOutput> {
    return this.call(() => this.db.send(new QueryCommand({ ...input, TableName: this.name })));
  }

  /** A Scan: only where no index can answer (see listOwedStates). */
  scan(input: WithoutTable<ScanCommandInput>): Promise<ScanCommandOutput> {
    return this.call(() => this.db.send(new ScanCommand({ ...input, TableName: this.name })));
  }

  /** An UpdateItem; a failed condition throws ConditionalCheckFailedException. */
  update(input: WithoutTable<UpdateCommandInput>): Promise<UpdateCommandOutput> {
    return this.call(() => this.db.send(new UpdateCommand({ ...input, TableName: this.name })));
  }

  /** A conditional UpdateItem; undefined when its condition fails. */
  updateIf(input: WithoutTable<UpdateCommandInput>): Promise<UpdateCommandOutput | undefined> {
    return this.unlessConditionFails(() => this.update(input));
  }

  /** A conditional PutItem; undefined when its condition fails. */
  putIf(input: WithoutTable<PutCommandInput>): Promise<PutCommandOutput | undefined> {
    return this.unlessConditionFails(() =>
      this.call(() => this.db.send(new PutCommand({ ...input, TableName: this.name }))),
    );
  }

  private async unlessConditionFails<T>(write: () => Promise<T>): Promise<T | undefined> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * Faults of the service (5xx, throttling, network) become StoreUnavailableError, which
   * callers may retry; the SDK has already retried them with backoff. Anything else (a
   * condition, a malformed request) passes through unchanged.
   */
  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (isServiceFault(error)) {
        throw new StoreUnavailableError(`DynamoDB request failed: ${(error as Error).name}`, {
          cause: error,
        });
      }
      throw error;
    }
  }
}

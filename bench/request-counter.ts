import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";

const READS = new Set(["GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable"]);
const WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "CreateTable"]);

export type Access = "read" | "write" | "other";

export function accessOf(operation: string): Access {
  if (READS.has(operation)) return "read";
  if (WRITES.has(operation)) return "write";
  return "other";
}

/** Counts, per operation; `attempts` are HTTP requests, `calls` are commands sent. */
export interface RequestCounts {
  calls: Record<string, number>;
  attempts: Record<string, number>;
  /** Sum of `$metadata.attempts` the SDK reported on outputs and errors. */
  reportedAttempts: number;
  /** Failed calls by error name (a failed condition is still a request, and billed). */
  errors: Record<string, number>;
}

const emptyCounts = (): RequestCounts => ({
  calls: {},
  attempts: {},
  reportedAttempts: 0,
  errors: {},
});

const bump = (record: Record<string, number>, key: string, by = 1) => {
  record[key] = (record[key] ?? 0) + by;
};

function attemptsIn(value: unknown): number {
  const metadata = (value as { $metadata?: { attempts?: number } } | undefined)?.$metadata;
  return metadata?.attempts ?? 1;
}

/**
 * Counts the DynamoDB requests a client makes, by operation, with two middlewares on its
 * stack: one in the initialize step (once per command, whatever the retries) and one in the
 * deserialize step, which sits inside the retry loop and so runs once per HTTP attempt.
 * DynamoDBDocumentClient shares its client's middleware stack, so document commands are
 * counted by the same middlewares, once.
 */
export class RequestCounter {
  private counts = emptyCounts();

  attach(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = operationName(context.commandName);
        bump(this.counts.calls, operation);
        try {
          const result = await next(args);
          this.counts.reportedAttempts += attemptsIn(result.output);
          return result;
        } catch (error) {
          this.counts.reportedAttempts += attemptsIn(error);
          bump(this.counts.errors, `${operation}: ${(error as Error).name}`);
          throw error;
        }
      },
      { step: "initialize", name: "benchCountCalls", override: true },
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        bump(this.counts.attempts, operationName(context.commandName));
        return next(args);
      },
      { step: "deserialize", name: "benchCountAttempts", override: true },
    );
  }

  /** The counts so far; `since(snapshot)` gives the difference. */
  snapshot(): RequestCounts {
    return structuredClone(this.counts);
  }

  since(before: RequestCounts): RequestCounts {
    const now = this.counts;
    const diff = (a: Record<string, number>, b: Record<string, number>) =>
      Object.fromEntries(
        Object.entries(a)
          .map(([key, value]) => [key, value - (b[key] ?? 0)] as const)
          .filter(([, value]) => value !== 0),
      );
    return {
      calls: diff(now.calls, before.calls),
      attempts: diff(now.attempts, before.attempts),
      reportedAttempts: now.reportedAttempts - before.reportedAttempts,
      errors: diff(now.errors, before.errors),
    };
  }
}

function operationName(commandName: string | undefined): string {
  return (commandName ?? "Unknown").replace(/Command$/, "");
}

export function total(record: Record<string, number>): number {
  return Object.values(record).reduce((sum, n) => sum + n, 0);
}

export function byAccess(record: Record<string, number>): Record<Access, number> {
  const result: Record<Access, number> = { read: 0, write: 0, other: 0 };
  for (const [operation, n] of Object.entries(record)) result[accessOf(operation)] += n;
  return result;
}

/**
 * Counts the HTTP requests an embedded DynamoDB receives from now on, as dynalite counts
 * them on its own thread (EmbeddedDynamo.requestsReceived): an independent check on
 * RequestCounter.
 */
export class WireCounter {
  private readonly from: number;

  constructor(private readonly received: () => number) {
    this.from = received();
  }

  get requests(): number {
    return this.received() - this.from;
  }
}

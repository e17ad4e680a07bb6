import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { AWS_CALL_POLICY, awsClientConfig, type CallPolicy } from "../adapters/aws-clients.js";
import { createTableInput } from "../adapters/dynamodb/table-schema.js";

/**
 * The local server's DynamoDB calls: as on AWS, with more time to connect and per attempt:
 * dynalite shares this process (and a laptop's CPU) with everything else, and a storm of
 * alerts opens dozens of connections at once.
 */
export const LOCAL_CALL_POLICY: Readonly<CallPolicy> = {
  ...AWS_CALL_POLICY,
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 5_000,
};

export interface EmbeddedDynamo {
  client: DynamoDBClient;
  /** Where dynalite listens (the client may go elsewhere: `clientEndpoint`). */
  endpoint: string;
  close: () => Promise<void>;
}

/** Waits for a table to be ACTIVE, polling from 10 ms up to 0.5 s apart, for at most 60 s. */
export async function untilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  await waitUntilTableExists(
    { client, minDelay: 0.01, maxDelay: 0.5, maxWaitTime: 60 },
    { TableName: tableName },
  );
}

/**
 * Starts dynalite (a DynamoDB implementation on LevelDB) on 127.0.0.1, persisted under
 * `dataDir` or in memory for ":memory:", and makes sure tocsin's table exists. It listens
 * on `port` (default: any free one); the client sends to `clientEndpoint` when given (a
 * fault proxy in front of dynalite), else straight to dynalite.
 */
export async function startEmbeddedDynamo(
  dataDir: string,
  tableName: string,
  options: {
    port?: number;
    clientEndpoint?: string | undefined;
    /** How long a new table stays CREATING (real DynamoDB: seconds); 0 by default. */
    createTableMs?: number;
  } = {},
): Promise<EmbeddedDynamo> {
  const path = dataDir === ":memory:" ? undefined : `${dataDir}/dynamodb`;
  if (path) mkdirSync(path, { recursive: true });
  const server = dynalite({
    createTableMs: options.createTableMs ?? 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(path ? { path } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    ...awsClientConfig(LOCAL_CALL_POLICY),
    endpoint: options.clientEndpoint ?? endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  }
  // A new table (or one a killed process left half made) is CREATING for a while, and any
  // request to it before it is ACTIVE fails with ResourceNotFoundException.
  await untilActive(client, tableName);
  return {
    client,
    endpoint,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

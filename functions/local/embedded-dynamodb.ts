import { once } from "node:events";
import { mkdirSync } from "node:fs";
import { Worker } from "node:worker_threads";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
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
  /** HTTP requests dynalite has received so far (benchmarks check the SDK's counts with it). */
  requestsReceived: () => number;
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
 *
 * dynalite runs on a worker thread (dynalite-worker.mjs): a storm of alerts keeps both the
 * service and its DynamoDB busy, and on one thread each would wait for the other (a
 * 1,000-alert delivery spent ~30% of its time in dynalite). A thread, not a child process:
 * it ends with the process however that ends (SIGKILL included), so nothing is left
 * holding the port or the LevelDB lock.
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
  const requests = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL("./dynalite-worker.mjs", import.meta.url), {
    workerData: {
      options: {
        createTableMs: options.createTableMs ?? 0,
        deleteTableMs: 0,
        updateTableMs: 0,
        ...(path ? { path } : {}),
      },
      port: options.port ?? 0,
      requests,
    },
    // Plain JavaScript: no loader of the parent's (tsx) is needed there.
    execArgv: [],
  });
  // An error in dynalite after start-up is thrown here, as it was when dynalite shared this
  // thread; a rejection nobody handled there is one here.
  worker.on("message", (message: { type: string; reason?: string }) => {
    if (message.type === "unhandledRejection")
      void Promise.reject(new Error(`embedded DynamoDB: ${message.reason}`));
  });
  const port = await listening(worker);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    ...awsClientConfig(LOCAL_CALL_POLICY),
    endpoint: options.clientEndpoint ?? endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const close = async () => {
    client.destroy();
    const exited = once(worker, "exit");
    worker.postMessage({ type: "close" });
    await exited;
  };
  try {
    try {
      await client.send(new DescribeTableCommand({ TableName: tableName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      await client.send(new CreateTableCommand(createTableInput(tableName)));
    }
    // A new table (or one a killed process left half made) is CREATING for a while, and any
    // request to it before it is ACTIVE fails with ResourceNotFoundException.
    await untilActive(client, tableName);
  } catch (error) {
    await close();
    throw error;
  }
  return { client, endpoint, requestsReceived: () => Atomics.load(requests, 0), close };
}

/** The port dynalite listens on, once it does; rejects if the thread fails or ends first. */
function listening(worker: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string; port?: number }) => {
      if (message.type !== "listening") return;
      settle();
      resolve(message.port!);
    };
    const onError = (error: Error) => {
      settle();
      reject(error);
    };
    const onExit = (code: number) => {
      settle();
      reject(new Error(`embedded DynamoDB ended before listening (exit code ${code})`));
    };
    const settle = () => {
      worker.off("message", onMessage).off("error", onError).off("exit", onExit);
    };
    worker.on("message", onMessage).on("error", onError).on("exit", onExit);
  });
}

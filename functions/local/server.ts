import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Config } from "../core/config.js";
import type { RunbookDefinition } from "../core/runbook.js";
import { composeHandlers } from "../entry/compose.js";
import { type FunctionName, ROUTE_KEYS } from "../handlers/route-keys.js";
import { startEmbeddedDynamo } from "./embedded-dynamodb.js";
import { apiGatewayBridge } from "./http-bridge.js";

export const LOCAL_TABLE = "tocsin";

export interface LocalServerOptions {
  config: Config;
  runbooks?: readonly RunbookDefinition[];
  host: string;
  port: number;
  dataDir: string;
  webhookToken: string;
  apiToken: string;
  grafanaHmacSecret?: string | undefined;
  logger?: Logger;
  now?: () => Date;
}

export interface LocalServer {
  url: string;
  server: Server;
  app: ReturnType<typeof composeHandlers>;
  dynamoEndpoint: string;
  /** The client the store uses (tests and benchmarks add middleware to it, e.g. to count requests). */
  dynamoClient: DynamoDBClient;
  close: () => Promise<void>;
}

/** The whole service on one machine: embedded DynamoDB plus the Lambda handlers behind HTTP. */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const dynamo = await startEmbeddedDynamo(options.dataDir, LOCAL_TABLE);
  const app = composeHandlers({
    dynamodb: dynamo.client,
    tableName: LOCAL_TABLE,
    config: options.config,
    runbooks: options.runbooks ?? [],
    webhookToken: () => options.webhookToken,
    apiToken: () => options.apiToken,
    grafanaHmacSecret: () => options.grafanaHmacSecret,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const routes = (Object.keys(ROUTE_KEYS) as FunctionName[]).flatMap((name) =>
    ROUTE_KEYS[name].map((routeKey) => ({ routeKey, handler: app.handlers[name] })),
  );
  const server = createServer(apiGatewayBridge(routes));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`,
    server,
    app,
    dynamoEndpoint: dynamo.endpoint,
    dynamoClient: dynamo.client,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dynamo.close();
    },
  };
}

import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoIncidentStore } from "../adapters/dynamodb/incident-store.js";
import type { SecretSource } from "../adapters/http/auth.js";
import type { Config } from "../core/config.js";
import { findRunbook, type RunbookDefinition } from "../core/runbook.js";
import { readApi } from "../handlers/read-api.js";
import { alertmanagerWebhook, grafanaWebhook } from "../handlers/webhooks.js";

export interface Runtime {
  dynamodb: DynamoDBClient;
  tableName: string;
  config: Config;
  runbooks: readonly RunbookDefinition[];
  webhookToken: SecretSource;
  apiToken: SecretSource;
  grafanaHmacSecret: () => Promise<string | undefined> | string | undefined;
  logger?: Logger;
  now?: () => Date;
}

/**
 * Builds every handler from one runtime. Lambda entry points and the local server both
 * call this: the handlers, middleware and store are the same objects in both places.
 */
export function composeHandlers(runtime: Runtime) {
  const logger = runtime.logger ?? new Logger({ serviceName: "tocsin" });
  const store = new DynamoIncidentStore(runtime.dynamodb, runtime.tableName);
  const webhookDeps = {
    store,
    config: runtime.config,
    newId: randomUUID,
    findRunbook: (alert: Parameters<typeof findRunbook>[2]) =>
      findRunbook(runtime.runbooks, runtime.config.runbooks.baseUrl, alert),
    logger,
    webhookToken: runtime.webhookToken,
    grafanaHmacSecret: runtime.grafanaHmacSecret,
    now: runtime.now ?? (() => new Date()),
  };
  return {
    store,
    logger,
    handlers: {
      alertmanagerWebhook: alertmanagerWebhook(webhookDeps),
      grafanaWebhook: grafanaWebhook(webhookDeps),
      readApi: readApi({ logger, store, apiToken: runtime.apiToken }),
    },
  };
}

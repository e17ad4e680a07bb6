import { getSecret } from "@aws-lambda-powertools/parameters/secrets";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { loadServiceFiles } from "../adapters/config-file.js";
import { composeHandlers } from "./compose.js";

/** How long a secret read from Secrets Manager is reused before it is read again. */
const SECRET_MAX_AGE_SECONDS = 300;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function secret(arn: string) {
  return async () => {
    const value = await getSecret(arn, { maxAge: SECRET_MAX_AGE_SECONDS });
    if (typeof value !== "string" || value === "") throw new Error(`secret ${arn} is empty`);
    return value;
  };
}

/**
 * The handlers as Lambda runs them: table from TABLE_NAME, config bundled beside the code
 * (TOCSIN_CONFIG), tokens from Secrets Manager by ARN, read lazily and cached, so a function
 * only ever reads the secrets its routes use.
 */
export function lambdaHandlers() {
  const grafanaArn = process.env.GRAFANA_HMAC_SECRET_ARN;
  const { config, runbooks } = loadServiceFiles(process.env.TOCSIN_CONFIG ?? "tocsin.yaml");
  return composeHandlers({
    dynamodb: new DynamoDBClient({}),
    tableName: required("TABLE_NAME"),
    config,
    runbooks,
    webhookToken: secret(required("WEBHOOK_TOKEN_SECRET_ARN")),
    apiToken: secret(required("API_TOKEN_SECRET_ARN")),
    grafanaHmacSecret: grafanaArn ? secret(grafanaArn) : () => undefined,
  }).handlers;
}

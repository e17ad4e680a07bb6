import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readServiceSnapshot } from "../../functions/adapters/config-file.js";

/**
 * Sets the environment a function has on Lambda as the stack deploys it, with its AWS
 * services on 127.0.0.1: region and credentials, an endpoint per service (`DYNAMODB` →
 * AWS_ENDPOINT_URL_DYNAMODB), Powertools quiet, the config snapshot of tocsin.yaml beside it
 * (TOCSIN_CONFIG) and the table; then the function's own `variables`.
 */
export function setLambdaEnvironment(options: {
  table: string;
  endpoints: Record<string, string>;
  variables?: Record<string, string>;
}): void {
  const dir = mkdtempSync(join(tmpdir(), "tocsin-lambda-"));
  writeFileSync(join(dir, "tocsin.json"), JSON.stringify(readServiceSnapshot("tocsin.yaml")));
  Object.assign(process.env, {
    AWS_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    ...Object.fromEntries(
      Object.entries(options.endpoints).map(([service, url]) => [
        `AWS_ENDPOINT_URL_${service}`,
        url,
      ]),
    ),
    POWERTOOLS_TRACE_ENABLED: "false",
    POWERTOOLS_METRICS_DISABLED: "true",
    POWERTOOLS_LOG_LEVEL: "ERROR",
    TOCSIN_CONFIG: join(dir, "tocsin.json"),
    TABLE_NAME: options.table,
    ...options.variables,
  });
}

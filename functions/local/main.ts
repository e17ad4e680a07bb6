/**
 * `npm start`: tocsin on one machine. Reads the environment (DESIGN.md), validates the
 * config, starts embedded DynamoDB and the HTTP server, and prints how to use it.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { loadServiceFiles } from "../adapters/config-file.js";
import { InvalidConfigError } from "../core/errors.js";
import { localSettings } from "./environment.js";
import { startLocalServer } from "./server.js";

// The SDK warns that it will need Node 22 from 2027; Lambda runs 22, this is the local tool.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const logger = new Logger({ serviceName: "tocsin" });

// A promise that rejects with nobody awaiting it would end the process, and with it every
// escalation waiting here. Whatever it was, one request or one task failed, not the service:
// log it and keep serving.
process.on("unhandledRejection", (reason: unknown) => {
  logger.error("unhandled rejection; still serving", {
    event: "unhandled_rejection",
    error: reason,
  });
});

async function main() {
  const settings = localSettings(process.env);
  const { config, runbooks } = loadServiceFiles(settings.configPath);
  const local = await startLocalServer({ ...settings, config, runbooks, logger });
  const generated = (which: "webhook" | "api") =>
    settings.generated.includes(which) ? " (generated; set it to keep it)" : "";
  process.stdout.write(
    [
      "",
      `tocsin is listening on ${local.url}`,
      `  config:         ${settings.configPath} (${runbooks.length} runbooks)`,
      `  data:           ${settings.dataDir === ":memory:" ? "in memory (gone at exit)" : `${settings.dataDir}/dynamodb`}`,
      `  webhook token:  ${settings.webhookToken}${generated("webhook")}   -> TOCSIN_WEBHOOK_TOKEN`,
      `  API token:      ${settings.apiToken}${generated("api")}   -> TOCSIN_API_TOKEN`,
      `  history page:   ${local.url}/ (sign in with the API token)`,
      `  Slack:          ${settings.notifiers.slack.token ? `bot token set${settings.notifiers.slack.apiUrl ? ` (${settings.notifiers.slack.apiUrl})` : ""}` : "no SLACK_BOT_TOKEN: messages recorded as not delivered"}`,
      `  PagerDuty:      ${settings.notifiers.pagerDuty.routingKey ? `routing key set${settings.notifiers.pagerDuty.server ? ` (${settings.notifiers.pagerDuty.server})` : ""}` : "no PAGERDUTY_ROUTING_KEY: pages recorded as not delivered"}`,
      `  Slack buttons:  ${settings.slack.signingSecret ? `POST ${local.url}/slack/interactions${settings.slack.teamId ? ` (workspace ${settings.slack.teamId} only)` : ""}` : "no SLACK_SIGNING_SECRET: clicks are refused"}`,
      `  email:          ${settings.dataDir === ":memory:" ? "written to this console" : `written to ${settings.dataDir}/outbox/`}`,
      `  escalation:     the Step Functions definition, run locally${settings.timeScale > 1 ? `, delays divided by ${settings.timeScale}` : ""}${local.resumedEscalations.length > 0 ? `; ${local.resumedEscalations.length} resumed from the last run` : ""}`,
      "",
      "Post an alert as Alertmanager would:",
      `  curl -s -H 'Authorization: Bearer ${settings.webhookToken}' -H 'Content-Type: application/json' \\`,
      `    --data '{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"TrainingNaNLoss","severity":"critical","team":"ml-training","job":"llama-70b"},"annotations":{"summary":"Loss is NaN on llama-70b"},"startsAt":"${new Date().toISOString()}"}]}' \\`,
      `    ${local.url}/webhooks/alertmanager`,
      "See the incidents:",
      `  curl -s -H 'Authorization: Bearer ${settings.apiToken}' ${local.url}/incidents`,
      "",
    ].join("\n"),
  );
  const stop = async () => {
    await local.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  if (error instanceof InvalidConfigError) {
    process.stderr.write(`tocsin: ${error.message}\n`);
  } else {
    process.stderr.write(`tocsin: cannot start: ${(error as Error).stack ?? error}\n`);
  }
  process.exit(1);
});

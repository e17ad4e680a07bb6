import type { LocalSettings } from "./environment.js";

export interface BannerFacts {
  settings: LocalSettings;
  url: string;
  runbooks: number;
  resumedEscalations: number;
  now: Date;
}

const VARIABLES = {
  webhook: "TOCSIN_WEBHOOK_TOKEN",
  api: "TOCSIN_API_TOKEN",
  link: "TOCSIN_LINK_KEY",
} as const;

/**
 * What `npm start` prints: where it listens, what is configured, and two curl lines to try.
 * A token is shown only when it was generated here (nobody else knows it yet); one given in
 * the environment stays out of the console, its scrollback and CI logs, and the curl lines
 * read it from the same variable.
 */
export function banner({ settings, url, runbooks, resumedEscalations, now }: BannerFacts): string {
  const shown = (which: keyof typeof VARIABLES, token: string) =>
    settings.generated.includes(which)
      ? `${token} (generated; set ${VARIABLES[which]} to keep it)`
      : `from ${VARIABLES[which]} (not shown)`;
  const bearer = (which: "webhook" | "api", token: string) =>
    settings.generated.includes(which)
      ? `'Authorization: Bearer ${token}'`
      : `"Authorization: Bearer $${VARIABLES[which]}"`;
  const { slack, pagerDuty } = settings.notifiers;
  return [
    "",
    `tocsin is listening on ${url}`,
    `  config:         ${settings.configPath} (${runbooks} runbooks)`,
    `  data:           ${settings.dataDir === ":memory:" ? "in memory (gone at exit)" : `${settings.dataDir}/dynamodb`}`,
    `  webhook token:  ${shown("webhook", settings.webhookToken)}`,
    `  API token:      ${shown("api", settings.apiToken)}`,
    `  history page:   ${url}/ (sign in with the API token)`,
    `  link key:       ${shown("link", settings.links.keys[0]!)}; links open at ${settings.links.publicUrl ?? url}/a/…`,
    `  Slack:          ${slack.token ? `bot token set${slack.apiUrl ? ` (${slack.apiUrl})` : ""}` : "no SLACK_BOT_TOKEN: messages recorded as not delivered"}`,
    `  PagerDuty:      ${pagerDuty.routingKey ? `routing key set${pagerDuty.server ? ` (${pagerDuty.server})` : ""}` : "no PAGERDUTY_ROUTING_KEY: pages recorded as not delivered"}`,
    `  Slack buttons:  ${settings.slack.signingSecret ? `POST ${url}/slack/interactions${settings.slack.teamId ? ` (workspace ${settings.slack.teamId} only)` : ""}` : "no SLACK_SIGNING_SECRET: clicks are refused"}`,
    `  email:          ${settings.dataDir === ":memory:" ? "written to this console" : `written to ${settings.dataDir}/outbox/`}`,
    `  escalation:     the Step Functions definition, run locally${settings.timeScale > 1 ? `, delays divided by ${settings.timeScale}` : ""}${resumedEscalations > 0 ? `; ${resumedEscalations} resumed from the last run` : ""}`,
    "",
    "Post an alert as Alertmanager would:",
    `  curl -s -H ${bearer("webhook", settings.webhookToken)} -H 'Content-Type: application/json' \\`,
    `    --data '{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"TrainingNaNLoss","severity":"critical","team":"ml-training","job":"llama-70b"},"annotations":{"summary":"Loss is NaN on llama-70b"},"startsAt":"${now.toISOString()}"}]}' \\`,
    `    ${url}/webhooks/alertmanager`,
    "See the incidents:",
    `  curl -s -H ${bearer("api", settings.apiToken)} ${url}/incidents`,
    "",
  ].join("\n");
}

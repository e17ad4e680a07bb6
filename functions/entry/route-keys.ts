/**
 * Which function serves which route, as API Gateway route keys. The CDK stack and the
 * local server both read this, so the routes are the same in both places.
 */
export const ROUTE_KEYS = {
  alertmanagerWebhook: ["POST /webhooks/alertmanager"],
  grafanaWebhook: ["POST /webhooks/grafana"],
  readApi: [
    "GET /incidents",
    "GET /incidents/{id}",
    "GET /reports/escalations",
    "GET /",
    "POST /login",
    "POST /logout",
    "GET /healthz",
  ],
  slackInteractions: ["POST /slack/interactions"],
  // ── PagerDuty (WP3) ──
  pagerDutyWebhook: ["POST /webhooks/pagerduty"],
  // ── end PagerDuty ──
  ackLinks: ["GET /a/{token}", "POST /a/{token}"],
} as const;

export type FunctionName = keyof typeof ROUTE_KEYS;

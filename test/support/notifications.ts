import { readFileSync } from "node:fs";
import type { ChannelConfig } from "../../functions/core/config.js";
import { type Incident, openIncident } from "../../functions/core/incident.js";
import type { Notification, Recipient, RunbookDetails } from "../../functions/core/notification.js";
import { parseRunbook } from "../../functions/core/yaml-files.js";

const RUNBOOK_FILE = "gpu-memory-pressure.md";

/** The real runbook from runbooks/, as notifications carry it. */
export function runbookDetails(): RunbookDetails {
  const text = readFileSync(new URL(`../../runbooks/${RUNBOOK_FILE}`, import.meta.url), "utf8");
  const definition = parseRunbook(RUNBOOK_FILE, text);
  return {
    name: definition.title,
    url: `https://github.com/tocsin-dev/tocsin/blob/main/runbooks/${RUNBOOK_FILE}`,
    summary: definition.summary,
    diagnosis: definition.diagnosis,
    body: definition.body,
  };
}

export const DMITRI: Recipient = {
  userId: "dmitri",
  name: "Dmitri Volkov",
  email: "dmitri@example.com",
  slack: "U0DMITRI1",
};
export const ERIN: Recipient = {
  userId: "erin",
  name: "Erin Walsh",
  email: "erin@example.com",
  slack: "U0ERIN001",
};
export const GRACE_NO_SLACK: Recipient = { userId: "grace", name: "Grace Okafor" };

/**
 * A critical ml-training incident with every link set, built by the core's own
 * `openIncident` so that it keeps up with the Incident type.
 */
export function incident(overrides: Partial<Incident> = {}): Incident {
  const { timeline: _timeline, ...opened } = openIncident({
    id: "inc-20261130-0001",
    alert: {
      source: "alertmanager",
      status: "firing",
      fingerprint: "3f2a9c0d1e4b5a6f",
      labels: {
        alertname: "GPUMemoryPressure",
        severity: "critical",
        team: "ml-training",
        job: "llm-pretrain",
        instance: "trainer-7:9400",
        gpu: "3",
        model: "llama-70b",
        cluster: "us-east-2a",
      },
      annotations: {
        summary: "GPU 3 memory above 95% on trainer-7",
        description: "Memory used 97.4% for 10m",
      },
      startsAt: "2026-11-30T09:00:00.000Z",
      endsAt: null,
      generatorUrl: "http://prometheus.example:9090/graph?g0.expr=gpu_memory&g0.tab=1",
      dashboardUrl: "https://grafana.example/d/gpu?var-instance=trainer-7",
      silenceUrl:
        "http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22GPU%22%7D",
      values: null,
      valueText: null,
      imageUrl: null,
      ruleId: null,
    },
    routing: {
      team: "ml-training",
      severity: "critical",
      channels: ["slack-incidents", "email-oncall"],
      escalation: "standard",
      delay: 0,
      matchedRoutes: ["0"],
    },
    runbook: {
      name: "GPU Memory Pressure",
      url: `https://github.com/tocsin-dev/tocsin/blob/main/runbooks/${RUNBOOK_FILE}`,
    },
    now: "2026-11-30T09:00:05.000Z",
  });
  return { ...opened, ...overrides };
}

const CHANNELS = {
  pagerduty: { type: "pagerduty" },
  "slack-incidents": { type: "slack", channel: "#incidents" },
  "email-oncall": { type: "email", address: "oncall@example.com" },
} as const satisfies Record<string, ChannelConfig>;

/** A notification for one of the default config's channels. */
export function notification(
  channelId: keyof typeof CHANNELS,
  overrides: Partial<Notification> = {},
): Notification {
  return {
    kind: "trigger",
    incident: incident(),
    level: 1,
    channelId,
    channel: CHANNELS[channelId],
    recipients: [DMITRI],
    runbook: runbookDetails(),
    slackMessage: null,
    ...overrides,
  };
}

/** A Prometheus graph link for a long PromQL expression, as Alertmanager sends it (5,370 chars). */
export function longGeneratorUrl(): string {
  const series = Array.from(
    { length: 60 },
    (_, i) => `DCGM_FI_DEV_FB_USED{Hostname=~"trainer-${i}.*",gpu=~"[0-7]"}`,
  );
  const url = `http://prometheus.example:9090/graph?g0.expr=${encodeURIComponent(`(${series.join(" or ")}) / 81920 > 0.95`)}&g0.tab=1`;
  return url.padEnd(5370, "&");
}

/** Grafana's silence link with every label as a matcher (2,405 chars). */
export function grafanaSilenceUrl(): string {
  const matchers = Array.from(
    { length: 40 },
    (_, i) => `matcher=${encodeURIComponent(`label_${i}=value-${"v".repeat(30)}-${i}`)}`,
  );
  return `https://grafana.example/alerting/silence/new?alertmanager=grafana&${matchers.join("&")}`;
}

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import { type LocalWithFakes, startLocalWithFakes } from "../support/local-with-fakes.js";
import { grafanaSilenceUrl, longGeneratorUrl } from "../support/notifications.js";
import { waitUntil } from "../support/poll-until.js";

// 15 minutes become 1.5 s.
const SCALE = 600;
const WEBHOOK = "e2e-webhook-token";
const API = "e2e-api-token";

let fakes: LocalWithFakes;

beforeAll(async () => {
  fakes = await startLocalWithFakes({ webhookToken: WEBHOOK, apiToken: API, timeScale: SCALE });
}, 60_000);

afterAll(async () => {
  await fakes?.close();
});

async function incident(id: string): Promise<IncidentWithTimeline> {
  const response = await fetch(`${fakes.local.url}/incidents/${id}`, {
    headers: { authorization: `Bearer ${API}` },
  });
  return (await response.json()) as IncidentWithTimeline;
}

describe("Slack messages on the local server, against a fake Slack that enforces Slack's limits", () => {
  it("posts the incident and every level's reply for an alert with a 5,370-character source link", async () => {
    // Prepare: Prometheus's link for a long PromQL expression, Grafana's for a silence.
    const { local, slack } = fakes;
    const response = await fetch(`${local.url}/webhooks/alertmanager`, {
      method: "POST",
      headers: { authorization: `Bearer ${WEBHOOK}`, "content-type": "application/json" },
      body: JSON.stringify({
        version: "4",
        status: "firing",
        externalURL: "http://alertmanager.example:9093",
        alerts: [
          {
            status: "firing",
            labels: {
              alertname: "GPUMemoryPressure",
              job: "llm-pretrain",
              severity: "critical",
              team: "ml-training",
            },
            annotations: { summary: "GPU memory above 95% on 60 trainers" },
            startsAt: "2026-11-30T09:00:00Z",
            generatorURL: longGeneratorUrl(),
            silenceURL: grafanaSilenceUrl(),
          },
        ],
      }),
    });
    expect(response.status).toBe(202);
    const { incidents } = (await response.json()) as { incidents: Array<{ id: string }> };
    const id = incidents[0]!.id;

    // Act: level 1 at once, level 2 one gap (1.5 s) later.
    await waitUntil(
      async () =>
        (await incident(id)).timeline.some((e) => e.type === "escalated" && e.level === 2),
      "level 2",
      10_000,
      50,
    );
    await local.escalation.close();

    // Assess: Slack accepted the message and the level-2 reply; nothing failed.
    const channel = slack.channelId("#incidents");
    const posts = slack.callsTo("chat.postMessage");
    expect(posts.map((c) => c.error)).not.toContain("invalid_blocks");
    const parent = [...slack.messages.values()].find((m) => m.channel === channel && !m.thread_ts);
    expect(parent).toBeDefined();
    expect(JSON.stringify(parent!.blocks)).toContain("Alert source (shortened)");
    const replies = [...slack.messages.values()].filter((m) => m.thread_ts === parent!.ts);
    expect(replies.map((m) => String(m.text))).toEqual([
      expect.stringMatching(/^:arrow_double_up: Escalated to level 2/),
    ]);
    const timeline = (await incident(id)).timeline;
    const slackOutcomes = timeline.filter((e) => e.channel === "slack-incidents");
    expect(slackOutcomes.map((e) => e.type)).not.toContain("notification_failed");
    expect(slackOutcomes.filter((e) => e.type === "notified").length).toBeGreaterThanOrEqual(2);
  }, 30_000);
});

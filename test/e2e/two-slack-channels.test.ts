import { afterAll, beforeAll, expect, it } from "vitest";
import { loadServiceFiles } from "../../functions/adapters/config-file.js";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import { type LocalWithFakes, startLocalWithFakes } from "../support/local-with-fakes.js";
import { waitUntil, within } from "../support/poll-until.js";
import { postAlert } from "../support/post-alert.js";
import { slackClick } from "../support/slack-click.js";

// 15 minutes become 1.5 s.
const SCALE = 600;
const WEBHOOK = "e2e-webhook-token";
const API = "e2e-api-token";
const SIGNING_SECRET = "e2e-slack-signing-secret";
const DMITRI = { id: "U0DMITRI1", username: "dmitri.v" }; // tocsin.yaml: dmitri, ml-training
/** A bound for failing on a loaded machine, never a wait. */
const PATIENCE_MS = 15_000;

let fakes: LocalWithFakes;

beforeAll(async () => {
  // The shipped config with critical alerts told to two Slack channels.
  const { config } = loadServiceFiles("tocsin.yaml");
  const twoChannels = structuredClone(config);
  twoChannels.severities.critical!.channels = ["slack-incidents", "slack-alerts"];
  fakes = await startLocalWithFakes({
    webhookToken: WEBHOOK,
    apiToken: API,
    timeScale: SCALE,
    slack: { signingSecret: SIGNING_SECRET },
    config: twoChannels,
  });
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

it("a route with two Slack channels keeps both messages: level 2 replies in both threads, the acknowledgement updates both", async () => {
  const { slack, local } = fakes;
  const posted = await postAlert(local.url, WEBHOOK, {
    labels: {
      alertname: "TrainingNaNLoss",
      job: "two-channels",
      severity: "critical",
      team: "ml-training",
    },
    summary: "loss is NaN",
  });
  expect(posted.status).toBe(202);
  const id = posted.incident!.id;
  const incidents = slack.channelId("#incidents");
  const alerts = slack.channelId("#alerts");
  // Posts in the two channels (people's direct messages are D… channels, apart).
  const topLevel = () =>
    slack
      .callsTo("chat.postMessage")
      .filter(
        (c) =>
          c.status === 200 &&
          c.args.thread_ts === undefined &&
          !String(c.args.channel).startsWith("D"),
      );

  // Level 2 (15 minutes, 1.5 s here) replies in a thread of each channel.
  await waitUntil(
    () =>
      slack
        .callsTo("chat.postMessage")
        .filter((c) => c.status === 200 && c.args.thread_ts !== undefined).length >= 2,
    "level 2's replies in both threads",
    PATIENCE_MS,
    25,
  );
  const stored = await incident(id);
  const channelMessages = Object.keys(stored.slackMessages).filter((key) => !key.startsWith("@"));
  expect(channelMessages.sort()).toEqual(["slack-alerts", "slack-incidents"]);
  expect(stored.slackMessages["slack-incidents"]!.channel).toBe(incidents);
  expect(stored.slackMessages["slack-alerts"]!.channel).toBe(alerts);
  const replies = slack
    .callsTo("chat.postMessage")
    .filter((c) => c.status === 200 && c.args.thread_ts !== undefined);
  expect(replies.map((c) => [c.args.channel, c.args.thread_ts]).sort()).toEqual(
    [
      [incidents, stored.slackMessages["slack-incidents"]!.ts],
      [alerts, stored.slackMessages["slack-alerts"]!.ts],
    ].sort(),
  );
  // One top-level message per channel, ever.
  expect(
    topLevel()
      .map((c) => slack.channelId(String(c.args.channel)))
      .sort(),
  ).toEqual([alerts, incidents].sort());

  // Acknowledge from the #incidents message: both messages show it, with no buttons left.
  const click = slackClick({
    signingSecret: SIGNING_SECRET,
    actionId: "acknowledge",
    value: id,
    user: DMITRI,
    teamId: "T024BE7LD",
    channelId: incidents,
    timestamp: new Date(),
    responseUrl: slack.responseUrl({ user: DMITRI.id, channel: incidents }),
  });
  const answered = await fetch(`${local.url}/slack/interactions`, {
    method: "POST",
    headers: click.headers,
    body: click.body,
  });
  expect(answered.status).toBe(200);
  await within(local.escalation.untilEnded(id), "the escalation to end", PATIENCE_MS);
  await within(local.escalation.untilEnded(`${id}-acknowledge`), "the mirror to end", PATIENCE_MS);
  // Both channel messages, and the DMs of the people paged.
  for (const [channelId, ref] of Object.entries(stored.slackMessages)) {
    const message = slack.messages.get(`${ref.channel}/${ref.ts}`)!;
    expect(JSON.stringify(message.blocks), channelId).toContain("Acknowledged");
    expect(JSON.stringify(message.blocks), channelId).not.toContain('"action_id":"acknowledge"');
  }
  expect(topLevel()).toHaveLength(2);
});

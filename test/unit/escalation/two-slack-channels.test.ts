import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { takeIncidentAction } from "../../../functions/app/incident-actions.js";
import { scaledAfter } from "../../../functions/core/clock.js";
import type {
  DeliveryOutcome,
  Notification,
  Notifier,
  SlackMessageRef,
} from "../../../functions/core/notification.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import {
  type EscalationDeps,
  mirrorStateChange,
  runEscalationStep,
} from "../../../functions/escalation/step.js";
import { candidate } from "../../support/incidents.js";
import { fired } from "../../support/lifecycle.js";

const config = parseConfig(readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"));
const silent = new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" });
const T0 = Date.parse("2026-11-30T09:00:00.000Z");
const MINUTE = 60_000;

/**
 * Slack as SlackNotifier uses it: a trigger (or a notification without a message to refer
 * to) posts a new top-level message and answers its ref; an escalation replies in the
 * message's thread; a state change updates the message.
 */
function recordingSlack() {
  const calls: Array<{
    channelId: string;
    kind: Notification["kind"];
    level: number;
    did: "posted" | "replied" | "updated";
    ref: SlackMessageRef | null;
  }> = [];
  let posts = 0;
  const notifier: Notifier = {
    kind: "slack",
    send: async (n): Promise<DeliveryOutcome> => {
      const base = { channelId: n.channelId, kind: n.kind, level: n.level };
      if (n.channel.type !== "slack") throw new Error("not a Slack channel");
      if (!n.slackMessage || n.kind === "trigger") {
        const ref = {
          channel: `C${n.channel.channel.slice(1).toUpperCase()}`,
          ts: `17000.${++posts}`,
        };
        calls.push({ ...base, did: "posted", ref });
        return { status: "delivered", detail: `posted to ${n.channel.channel}`, slackMessage: ref };
      }
      calls.push({
        ...base,
        did: n.kind === "escalate" ? "replied" : "updated",
        ref: n.slackMessage,
      });
      return { status: "delivered", detail: "in the thread" };
    },
  };
  return { notifier, calls };
}

const delivered: Notifier = {
  kind: "pagerduty",
  send: async () => ({ status: "delivered", detail: "PagerDuty accepted" }),
};

describe("a route with two Slack channels", () => {
  it("keeps both messages: level 2 replies in both threads, and the acknowledgement updates both", async () => {
    const store = new MemoryIncidentStore();
    const opened = candidate("fp-two-slack", new Date(T0).toISOString(), {
      channels: ["slack-incidents", "slack-alerts"],
    });
    await fired(store, opened);
    const slack = recordingSlack();
    let clock = T0;
    const deps: EscalationDeps = {
      store,
      config,
      runbooks: [],
      notifiers: { slack: slack.notifier, pagerduty: delivered },
      logger: silent,
      clock: {
        now: () => new Date(clock),
        after: scaledAfter(1),
        sleep: async (ms) => {
          clock += ms;
        },
        random: () => 0,
      },
    };

    // Step 0: the route's channels, with level 1 folded in (critical).
    const first = await runEscalationStep(
      deps,
      { incidentId: opened.id, step: 0, dueAt: new Date(T0).toISOString() },
      () => new Date(clock),
    );
    const posted = slack.calls.filter((c) => c.did === "posted");
    expect(posted.map((c) => c.channelId).sort()).toEqual(["slack-alerts", "slack-incidents"]);
    const refOf = (channelId: string) => posted.find((c) => c.channelId === channelId)!.ref;
    expect((await store.get(opened.id))!.slackMessages).toEqual({
      "slack-incidents": refOf("slack-incidents"),
      "slack-alerts": refOf("slack-alerts"),
    });

    // Level 2, 15 minutes later: a reply in each channel's own thread, no new post.
    clock = T0 + 15 * MINUTE;
    expect(first.step).toBe(2);
    await runEscalationStep(
      deps,
      { incidentId: opened.id, step: first.step, dueAt: first.dueAt },
      () => new Date(clock),
    );
    const level2 = slack.calls.filter((c) => c.level === 2);
    expect(level2).toEqual([
      expect.objectContaining({
        channelId: "slack-incidents",
        did: "replied",
        ref: refOf("slack-incidents"),
      }),
      expect.objectContaining({
        channelId: "slack-alerts",
        did: "replied",
        ref: refOf("slack-alerts"),
      }),
    ]);

    // Acknowledged: both messages are updated, nothing new is posted.
    clock = T0 + 16 * MINUTE;
    const acked = await takeIncidentAction(
      { store, config, after: scaledAfter(1) },
      {
        incidentId: opened.id,
        action: { type: "acknowledge" },
        user: { id: "U0DMITRI1" },
        actor: { display: "Dmitri Volkov (dmitri)", via: "slack", userId: "dmitri" },
      },
      new Date(clock),
    );
    expect(acked.outcome).toBe("done");
    await mirrorStateChange(
      deps,
      { incidentId: opened.id, kind: "acknowledge" },
      () => new Date(clock),
    );
    const updates = slack.calls.filter((c) => c.kind === "acknowledge");
    expect(updates).toEqual([
      expect.objectContaining({
        channelId: "slack-incidents",
        did: "updated",
        ref: refOf("slack-incidents"),
      }),
      expect.objectContaining({
        channelId: "slack-alerts",
        did: "updated",
        ref: refOf("slack-alerts"),
      }),
    ]);
    expect(slack.calls.filter((c) => c.did === "posted")).toHaveLength(2);
  });
});

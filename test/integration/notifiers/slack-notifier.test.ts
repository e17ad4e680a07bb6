import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SlackMessageRef } from "../../../functions/core/notification.js";
import type { Block } from "../../../functions/integrations/slack/message.js";
import {
  SlackNotifier,
  type SlackNotifierOptions,
} from "../../../functions/integrations/slack/notifier.js";
import { FakeSlack } from "../../support/fake-slack.js";
import { freePort } from "../../support/free-port.js";
import { frozenTimers } from "../../support/frozen-timers.js";
import {
  DMITRI,
  ERIN,
  grafanaSilenceUrl,
  incident,
  longGeneratorUrl,
  notification,
} from "../../support/notifications.js";

const TOKEN = "xoxb-test-token";

let slack: FakeSlack;
beforeAll(async () => {
  slack = await FakeSlack.start({ token: TOKEN });
});
afterEach(() => slack.reset());
afterAll(async () => {
  await slack.close();
});

function notifier(options: SlackNotifierOptions = {}): SlackNotifier {
  return new SlackNotifier({
    token: TOKEN,
    slackApiUrl: slack.apiUrl,
    ...options,
  });
}

function buttons(blocks: unknown): string[] {
  return (blocks as Block[])
    .filter((block) => block.type === "actions")
    .flatMap((block) =>
      block.type === "actions"
        ? block.elements.map(
            (b) =>
              `${b.action_id}=${"value" in b ? b.value : b.options.map((o) => o.value).join(",")}`,
          )
        : [],
    );
}

/** Level 2 (Erin) escalating the incident whose message is `ref`. */
const levelTwo = (ref: SlackMessageRef) =>
  notification("slack-incidents", {
    kind: "escalate",
    level: 2,
    recipients: [ERIN],
    slackMessage: ref,
  });

/** A trigger posted through the notifier, for the tests that need a message to work on. */
async function posted(): Promise<SlackMessageRef> {
  const outcome = await notifier().send(
    notification("slack-incidents", { level: 0, recipients: [] }),
  );
  return outcome.slackMessage!;
}

describe("SlackNotifier", () => {
  it("posts the incident to the channel as named and returns where the message lives", async () => {
    const outcome = await notifier().send(
      notification("slack-incidents", { level: 0, recipients: [DMITRI] }),
    );

    const [call, ...more] = slack.calls;
    expect(more).toEqual([]);
    expect(call).toMatchObject({
      method: "chat.postMessage",
      token: TOKEN,
      contentType: "application/x-www-form-urlencoded",
    });
    expect(call!.args).toMatchObject({ channel: "#incidents", unfurl_links: "false" });
    expect(call!.args.text).toBe(
      "[CRITICAL] GPU 3 memory above 95% on trainer-7 (ml-training) <@U0DMITRI1>",
    );
    expect(buttons(call!.args.blocks)).toEqual([
      "acknowledge=inc-20261130-0001",
      "resolve=inc-20261130-0001",
      "snooze=inc-20261130-0001",
      "snooze_longer=inc-20261130-0001|1h,inc-20261130-0001|4h",
    ]);
    expect(JSON.stringify(call!.args.blocks)).toContain("*Paged:* <@U0DMITRI1>");
    const channel = slack.channelId("#incidents");
    expect(channel).toMatch(/^C[A-Z0-9]+$/);
    expect(outcome).toEqual({
      status: "delivered",
      detail: "posted to #incidents",
      slackMessage: { channel, ts: expect.stringMatching(/^\d+\.\d{6}$/) },
    });
    expect(slack.messages.has(`${channel}/${outcome.slackMessage!.ts}`)).toBe(true);
  });

  it("escalates with a reply in the thread and an update of the message", async () => {
    const ref = await posted();
    slack.clearCalls();

    const outcome = await notifier().send(levelTwo(ref));

    expect(slack.calls.map((c) => c.method)).toEqual(["chat.postMessage", "chat.update"]);
    const [reply, update] = slack.calls;
    expect(reply!.args).toMatchObject({ channel: ref.channel, thread_ts: ref.ts });
    expect(reply!.args.text).toBe(
      ":arrow_double_up: Escalated to level 2: <@U0ERIN001>, please take a look.",
    );
    expect(update!.args).toMatchObject({ channel: ref.channel, ts: ref.ts });
    expect(JSON.stringify(update!.args.blocks)).toContain("Escalated to level 2");
    expect(buttons(update!.args.blocks)).toHaveLength(4);
    expect(outcome).toEqual({
      status: "delivered",
      detail: "replied in the thread in #incidents and updated the message",
    });
  });

  it("still counts an escalation as delivered when only the update fails", async () => {
    const ref = await posted();
    slack.failNext("chat.update", { error: "cant_update_message" });

    const outcome = await notifier().send(levelTwo(ref));

    expect(outcome).toEqual({
      status: "delivered",
      detail:
        "replied in the thread in #incidents but could not update the message (Slack refused the message: cant_update_message)",
    });
  });

  it("updates the message on acknowledge (Resolve only) and on resolve (no buttons)", async () => {
    const ref = await posted();
    slack.clearCalls();

    const acknowledged = await notifier().send(
      notification("slack-incidents", {
        kind: "acknowledge",
        actor: "U0DMITRI1",
        recipients: [],
        slackMessage: ref,
      }),
    );
    const resolved = await notifier().send(
      notification("slack-incidents", {
        kind: "resolve",
        actor: "alertmanager",
        recipients: [],
        slackMessage: ref,
      }),
    );

    expect(slack.calls.map((c) => c.method)).toEqual(["chat.update", "chat.update"]);
    expect(buttons(slack.calls[0]!.args.blocks)).toEqual(["resolve=inc-20261130-0001"]);
    expect(JSON.stringify(slack.calls[0]!.args.blocks)).toContain("Acknowledged by <@U0DMITRI1>");
    expect(buttons(slack.calls[1]!.args.blocks)).toEqual([]);
    expect(acknowledged).toEqual({
      status: "delivered",
      detail: "updated the message in #incidents",
    });
    expect(resolved.status).toBe("delivered");
    expect(slack.messages.get(`${ref.channel}/${ref.ts}`)!.text).toMatch(/^\[RESOLVED\]/);
  });

  it("posts a new message for a state change when there is none to update", async () => {
    const outcome = await notifier().send(
      notification("slack-incidents", { kind: "resolve", actor: "alertmanager", recipients: [] }),
    );

    expect(slack.calls.map((c) => c.method)).toEqual(["chat.postMessage"]);
    expect(slack.calls[0]!.args.channel).toBe("#incidents");
    expect(outcome.slackMessage?.channel).toBe(slack.channelId("#incidents"));
  });

  it("answers a 429 at once as retryable, with Slack's Retry-After: retrying is the pipeline's", async () => {
    slack.failNext("chat.postMessage", { status: 429, retryAfter: 7 });

    // With the clock stopped, the answer still comes: nothing waits on a timer (WebClient
    // sleeping out the Retry-After, or its own retry's backoff, would hang the test).
    const outcome = await frozenTimers(() => notifier().send(notification("slack-incidents")));

    expect(outcome).toEqual({
      status: "failed",
      retryable: true,
      retryAfterMs: 7_000,
      detail: "Slack rate limited the message",
    });
    expect(slack.calls.map((c) => c.status)).toEqual([429]);
  });

  it("answers a 500 as retryable after one request", async () => {
    slack.failNext("chat.postMessage", { status: 500, times: 2 });

    const outcome = await notifier().send(notification("slack-incidents"));

    expect(outcome).toEqual({ status: "failed", retryable: true, detail: "Slack answered 500" });
    expect(slack.calls.map((c) => c.status)).toEqual([500]);
  });

  it("fails at once on a Slack error such as channel_not_found", async () => {
    slack.failNext("chat.postMessage", { error: "channel_not_found" });

    const outcome = await notifier().send(notification("slack-incidents"));

    expect(outcome).toEqual({
      status: "failed",
      retryable: false,
      detail: "Slack refused the message: channel_not_found",
    });
    expect(slack.calls).toHaveLength(1);
  });

  it("reports a refused token without repeating it", async () => {
    const outcome = await notifier({ token: "xoxb-revoked" }).send(notification("slack-incidents"));

    expect(outcome).toEqual({
      status: "failed",
      retryable: false,
      detail: "Slack refused the message: invalid_auth",
    });
  });

  it("reports Slack as unreachable, a retryable failure", async () => {
    const port = await freePort();

    const outcome = await notifier({ slackApiUrl: `http://127.0.0.1:${port}/api/` }).send(
      notification("slack-incidents"),
    );

    expect(outcome).toMatchObject({ status: "failed", retryable: true });
    expect(outcome.detail).toMatch(/^Slack unreachable: fetch failed/);
  });

  it("sends nothing and says so without a token", async () => {
    for (const token of [undefined, "", "  "]) {
      const outcome = await notifier({ token }).send(notification("slack-incidents"));
      expect(outcome).toEqual({
        status: "not_delivered",
        reason: "no_credentials",
        detail: "not delivered: no credentials",
      });
    }
    expect(slack.calls).toHaveLength(0);
  });
});

describe("SlackNotifier within Slack's limits (issue 11: a refused message was lost at every level)", () => {
  const longLinks = () =>
    incident({ generatorUrl: longGeneratorUrl(), silenceUrl: grafanaSilenceUrl() });

  it("posts, escalates and updates an incident whose links are far over Slack's limits", async () => {
    const trigger = await notifier().send(
      notification("slack-incidents", { level: 0, incident: longLinks() }),
    );
    const escalate = await notifier().send(
      notification("slack-incidents", {
        kind: "escalate",
        level: 2,
        recipients: [ERIN],
        incident: longLinks(),
        slackMessage: trigger.slackMessage!,
      }),
    );

    expect(trigger).toMatchObject({ status: "delivered", detail: "posted to #incidents" });
    expect(escalate).toEqual({
      status: "delivered",
      detail: "replied in the thread in #incidents and updated the message",
    });
    expect(slack.calls.map((c) => [c.method, c.error])).toEqual([
      ["chat.postMessage", undefined],
      ["chat.postMessage", undefined],
      ["chat.update", undefined],
    ]);
  });

  const refusals = [
    "invalid_blocks",
    "msg_blocks_too_long",
    "msg_too_long",
    "invalid_blocks_format",
  ];

  it.each(refusals)(
    "posts the incident as plain text when Slack still refuses the message (%s)",
    async (error) => {
      slack.failNext("chat.postMessage", { error });

      const outcome = await notifier().send(notification("slack-incidents", { level: 0 }));

      expect(outcome).toEqual({
        status: "delivered",
        detail: `posted to #incidents as plain text (Slack refused the message: ${error})`,
        slackMessage: expect.objectContaining({ channel: slack.channelId("#incidents") }),
      });
      const [refused, plain] = slack.callsTo("chat.postMessage");
      expect(refused!.error).toBe(error);
      expect(plain!.status).toBe(200);
      expect(plain!.args.blocks).toBeUndefined();
      expect(plain!.args.text).toBe(
        "[CRITICAL] GPU 3 memory above 95% on trainer-7 (ml-training) <@U0DMITRI1>\n" +
          "Memory used 97.4% for 10m\n" +
          "Runbook: https://github.com/tocsin-dev/tocsin/blob/main/runbooks/gpu-memory-pressure.md\n" +
          "Incident inc-20261130-0001 (sent as plain text: Slack refused the formatted message, so it has no buttons)",
      );
    },
  );

  it("replies and updates as plain text when the blocks of an escalation are refused", async () => {
    const ref = await posted();
    slack.clearCalls();
    slack.failNext("chat.postMessage", { error: "invalid_blocks" });
    slack.failNext("chat.update", { error: "invalid_blocks" });

    const outcome = await notifier().send(levelTwo(ref));

    expect(outcome).toEqual({
      status: "delivered",
      detail:
        "replied in the thread in #incidents as plain text (Slack refused the message: invalid_blocks) and updated the message as plain text (Slack refused the message: invalid_blocks)",
    });
    const reply = slack.callsTo("chat.postMessage").at(-1)!;
    expect(reply.args).toMatchObject({ thread_ts: ref.ts });
    expect(reply.args.text).toMatch(/^:arrow_double_up: Escalated to level 2: <@U0ERIN001>/);
    expect(slack.callsTo("chat.update").at(-1)!.status).toBe(200);
  });

  it("does not resend as plain text what Slack refused for another reason", async () => {
    slack.failNext("chat.postMessage", { error: "not_in_channel" });

    const outcome = await notifier().send(notification("slack-incidents"));

    expect(outcome).toEqual({
      status: "failed",
      retryable: false,
      detail: "Slack refused the message: not_in_channel",
    });
    expect(slack.calls).toHaveLength(1);
  });

  it("gives each update of the message a new block_id for its buttons", async () => {
    const ref = await posted();
    const escalate = (level: number) =>
      notifier().send(
        notification("slack-incidents", { kind: "escalate", level, slackMessage: ref }),
      );

    await escalate(2);
    await escalate(3);

    const blockIds = [...slack.callsTo("chat.postMessage"), ...slack.callsTo("chat.update")]
      .filter((c) => !c.args.thread_ts)
      .flatMap((c) => (c.args.blocks as Block[]).filter((b) => b.type === "actions"))
      .map((b) => b.type === "actions" && b.block_id);
    expect(blockIds).toHaveLength(3);
    expect(new Set(blockIds).size).toBe(3);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Notification } from "../../../functions/core/notification.js";
import { SlackDmNotifier } from "../../../functions/integrations/slack/dm.js";
import type { Block } from "../../../functions/integrations/slack/message.js";
import { FakeSlack } from "../../support/fake-slack.js";
import { DMITRI, notification } from "../../support/notifications.js";

const TOKEN = "xoxb-test-token";
const LINKS = {
  acknowledge: "http://127.0.0.1:8080/a/AQFh.ack",
  resolve: "http://127.0.0.1:8080/a/AQFy.res",
};

let slack: FakeSlack;
beforeAll(async () => {
  slack = await FakeSlack.start({ token: TOKEN });
});
afterEach(() => slack.reset());
afterAll(async () => {
  await slack.close();
});

const dm = (fake = slack) => new SlackDmNotifier({ token: TOKEN, slackApiUrl: fake.apiUrl });

/** Dmitri's own Slack page, as the escalation makes it: his DM, his links. */
const toDmitri = (overrides: Partial<Notification> = {}): Notification => ({
  ...notification("slack-incidents", {}),
  channelId: "@dmitri:slack",
  channel: { type: "slack_dm", user: "U0DMITRI1" },
  contact: {
    userId: "dmitri",
    name: "Dmitri Volkov",
    method: "slack",
    address: "U0DMITRI1",
    rule: 0,
  },
  links: LINKS,
  recipients: [DMITRI],
  ...overrides,
});

const actionIds = (blocks: unknown) =>
  (blocks as Block[]).flatMap((b) =>
    b.type === "actions" ? b.elements.map((e) => e.action_id) : [],
  );

describe("SlackDmNotifier against the fake Slack", () => {
  it("opens the DM, then posts the incident with its buttons and the person's links, unfurling nothing", async () => {
    const outcome = await dm().send(toDmitri());
    const channel = slack.dmChannel("U0DMITRI1")!;
    expect(channel).toMatch(/^D/);
    expect(outcome).toEqual({
      status: "delivered",
      detail: "direct message to U0DMITRI1",
      providerId: expect.stringMatching(/^\d+\.\d{6}$/),
      slackMessage: { channel, ts: outcome.providerId },
    });
    expect(slack.calls.map((c) => c.method)).toEqual(["conversations.open", "chat.postMessage"]);
    expect(slack.calls[0]!.args).toMatchObject({ users: "U0DMITRI1" });
    const post = slack.callsTo("chat.postMessage")[0]!;
    expect(post.args).toMatchObject({ channel, unfurl_links: "false", unfurl_media: "false" });
    // The channel message's buttons: /slack/interactions handles a DM click unchanged.
    expect(actionIds(post.args.blocks)).toEqual(
      expect.arrayContaining(["acknowledge", "resolve", "snooze"]),
    );
    const text = JSON.stringify(post.args.blocks);
    expect(text).toContain(`<${LINKS.acknowledge}|Acknowledge in a browser>`);
    expect(text).toContain(`<${LINKS.resolve}|Resolve in a browser>`);
  });

  it("sends a later page as a new message without buttons, and updates the first on a state change", async () => {
    const first = await dm().send(toDmitri());
    const again = await dm().send(
      toDmitri({ kind: "escalate", slackMessage: first.slackMessage! }),
    );
    expect(again).toMatchObject({
      status: "delivered",
      detail: "another direct message to U0DMITRI1",
    });
    expect(again.slackMessage).toBeUndefined();
    // conversations.open resumes the open DM: Slack says so with no_op/already_open.
    expect(slack.callsTo("conversations.open").map((c) => c.status)).toEqual([200, 200]);
    const posts = slack.callsTo("chat.postMessage");
    expect(posts).toHaveLength(2);
    expect(posts[1]!.args.thread_ts).toBeUndefined();
    expect(actionIds(posts[1]!.args.blocks)).toEqual([]);
    expect(JSON.stringify(posts[1]!.args.blocks)).toContain("Acknowledge in a browser");

    const acked = await dm().send(
      toDmitri({
        kind: "acknowledge",
        slackMessage: first.slackMessage!,
        actor: "Erin Walsh (erin)",
      }),
    );
    expect(acked).toEqual({ status: "delivered", detail: "updated the direct message" });
    const updated = slack.messages.get(`${first.slackMessage!.channel}/${first.slackMessage!.ts}`)!;
    expect(actionIds(updated.blocks)).not.toContain("acknowledge");
    // A state change sends no links: they would only act on what is done.
    expect(JSON.stringify(updated.blocks)).not.toContain("Acknowledge in a browser");
    expect(slack.callsTo("conversations.open")).toHaveLength(2);
  });

  it("tells nobody new of a state change when it never sent a DM", async () => {
    expect(await dm().send(toDmitri({ kind: "resolve" }))).toEqual({
      status: "not_delivered",
      detail: "no direct message to update",
    });
    expect(slack.calls).toEqual([]);
  });

  it("fails for good on a member Slack does not know, and without im:write, saying which scope", async () => {
    slack.removeUser("U0DMITRI1");
    expect(await dm().send(toDmitri())).toEqual({
      status: "failed",
      retryable: false,
      detail: "Slack would not open a direct message with U0DMITRI1: user_not_found",
    });
    const scoped = await FakeSlack.start({ token: TOKEN, scopes: ["chat:write"] });
    try {
      expect(await dm(scoped).send(toDmitri())).toEqual({
        status: "failed",
        retryable: false,
        detail:
          "Slack would not open a direct message with U0DMITRI1: missing_scope (the app needs im:write)",
      });
      expect(scoped.callsTo("chat.postMessage")).toEqual([]);
    } finally {
      await scoped.close();
    }
    expect(slack.callsTo("chat.postMessage")).toEqual([]);
  });

  it("is retryable, with Slack's Retry-After, past one message a second in the DM; and on a 5xx", async () => {
    slack.limitPostsPerChannel(1);
    const first = await dm().send(toDmitri());
    const soon = await dm().send(toDmitri({ kind: "escalate", slackMessage: first.slackMessage! }));
    expect(soon).toMatchObject({ status: "failed", retryable: true, retryAfterMs: 1000 });
    expect(slack.callsTo("chat.postMessage").map((c) => c.status)).toEqual([200, 429]);
    slack.failNext("conversations.open", { status: 503 });
    expect(await dm().send(toDmitri())).toMatchObject({
      status: "failed",
      retryable: true,
      detail: "Slack answered 503",
    });
  });

  it("sends nothing without a bot token", async () => {
    const none = new SlackDmNotifier({ slackApiUrl: slack.apiUrl });
    expect(await none.send(toDmitri())).toMatchObject({
      status: "not_delivered",
      reason: "no_credentials",
    });
    expect(slack.calls).toEqual([]);
  });
});

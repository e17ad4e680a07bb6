import { describe, expect, it } from "vitest";
import { CHANNEL_KINDS, canMirror, channelKind } from "../../functions/core/channels.js";
import type { Config } from "../../functions/core/config.js";
import { incident } from "../support/notifications.js";

const config = {
  channels: {
    pagerduty: { type: "pagerduty" },
    "slack-incidents": { type: "slack", channel: "#incidents" },
    "email-oncall": { type: "email", address: "oncall@example.com" },
  },
  users: { alice: { name: "Alice Martin" } },
} as unknown as Config;

describe("CHANNEL_KINDS: what each kind of channel does", () => {
  it("PagerDuty pages and mirrors; Slack mirrors on its message and follows the levels; email only tells", () => {
    expect(CHANNEL_KINDS).toEqual({
      pagerduty: { pages: true, mirrorsState: true },
      slack: { mirrorsState: true, mirrorsItsMessage: true, followsLevels: true },
      email: {},
      sms: {},
      voice: {},
      slack_dm: { mirrorsState: true, mirrorsItsMessage: true },
    });
    expect(channelKind(config, "email-oncall")).toEqual({});
    expect(channelKind(config, "not-configured")).toBeUndefined();
  });

  it("a person's channel has the kind of its method; an unknown person's or method's has none", () => {
    expect(channelKind(config, "@alice:slack")).toBe(CHANNEL_KINDS.slack_dm);
    expect(channelKind(config, "@alice:sms")).toBe(CHANNEL_KINDS.sms);
    expect(channelKind(config, "@alice:voice")).toBe(CHANNEL_KINDS.voice);
    expect(channelKind(config, "@alice:email")).toBe(CHANNEL_KINDS.email);
    expect(channelKind(config, "@zed:sms")).toBeUndefined();
    expect(channelKind(config, "@alice:fax")).toBeUndefined();
    expect(channelKind(config, "toString")).toBeUndefined();
  });

  const posted = incident({
    slackMessages: { "slack-incidents": { channel: "C001", ts: "1.2" } },
  });
  it.each([
    ["pagerduty", incident(), true],
    ["slack-incidents", posted, true],
    ["slack-incidents", incident(), false],
    ["email-oncall", posted, false],
    ["not-configured", posted, false],
    // A person's DM is edited by its first message, kept as slackMessages["@alice"].
    [
      "@alice:slack",
      incident({ slackMessages: { "@alice": { channel: "D01", ts: "3.4" } } }),
      true,
    ],
    ["@alice:slack", posted, false],
    ["@alice:sms", posted, false],
  ])("canMirror(%s) is %s", (channelId, of, expected) => {
    expect(canMirror(config, of, channelId)).toBe(expected);
  });
});

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
} as unknown as Config;

describe("CHANNEL_KINDS: what each kind of channel does", () => {
  it("PagerDuty pages and mirrors; Slack mirrors on its message and follows the levels; email only tells", () => {
    expect(CHANNEL_KINDS).toEqual({
      pagerduty: { pages: true, mirrorsState: true },
      slack: { mirrorsState: true, mirrorsItsMessage: true, followsLevels: true },
      email: {},
    });
    expect(channelKind(config, "email-oncall")).toEqual({});
    expect(channelKind(config, "not-configured")).toBeUndefined();
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
  ])("canMirror(%s) is %s", (channelId, of, expected) => {
    expect(canMirror(config, of, channelId)).toBe(expected);
  });
});

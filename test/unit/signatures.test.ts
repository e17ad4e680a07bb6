import { describe, expect, it } from "vitest";
import {
  hmacSha256Hex,
  SIGNATURE_WINDOW_SECONDS,
  signaturesEqual,
  withinSignatureWindow,
} from "../../functions/adapters/http/signatures.js";
import type { HttpEvent } from "../../functions/adapters/http/types.js";
import {
  DEFAULT_GRAFANA_HEADERS,
  requireGrafanaSignature,
} from "../../functions/integrations/grafana/signature.js";
import { verifySlackSignature } from "../../functions/integrations/slack/signature.js";

const SIGNED_AT = 1_764_666_000;
const at = (seconds: number) => new Date((SIGNED_AT + seconds) * 1000);

describe("hmacSha256Hex", () => {
  it("is HMAC-SHA256 in lowercase hex (RFC 4231, test case 2)", () => {
    expect(hmacSha256Hex("Jefe", "what do ya want for nothing?")).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("signs Slack's documented example base string", () => {
    // https://api.slack.com/authentication/verifying-requests-from-slack
    const body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    expect(hmacSha256Hex("8f742231b10e8888abcd99yyyzzz85a5", `v0:1531420618:${body}`)).toBe(
      "a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    );
  });
});

describe("the signature window", () => {
  it.each([
    [0, true],
    [SIGNATURE_WINDOW_SECONDS, true],
    [-SIGNATURE_WINDOW_SECONDS, true],
    [SIGNATURE_WINDOW_SECONDS + 1, false],
    [-SIGNATURE_WINDOW_SECONDS - 1, false],
    [SIGNATURE_WINDOW_SECONDS + 0.001, false],
  ])("a signature %s s from the clock is inside: %s", (offset, inside) => {
    expect(withinSignatureWindow(SIGNED_AT, at(offset))).toBe(inside);
  });

  it("is Slack's five minutes", () => {
    expect(SIGNATURE_WINDOW_SECONDS).toBe(300);
  });
});

describe("signaturesEqual", () => {
  it("is equality, whatever the lengths", () => {
    expect(signaturesEqual("abc", "abc")).toBe(true);
    expect(signaturesEqual("abc", "abd")).toBe(false);
    expect(signaturesEqual("abc", "abcd")).toBe(false);
    expect(signaturesEqual("", "abc")).toBe(false);
  });
});

describe("Slack and Grafana are held to the one window", () => {
  const secret = "s3cret";
  const body = '{"status":"firing"}';
  const slack = (offset: number) =>
    verifySlackSignature({
      signingSecret: secret,
      timestamp: String(SIGNED_AT),
      signature: `v0=${hmacSha256Hex(secret, `v0:${SIGNED_AT}:${body}`)}`,
      rawBody: body,
      now: at(offset),
    });
  const grafana = async (offset: number) => {
    const check = requireGrafanaSignature(
      () => secret,
      () => at(offset),
      DEFAULT_GRAFANA_HEADERS,
    );
    const event = {
      headers: {
        "x-grafana-alerting-signature": hmacSha256Hex(secret, `${SIGNED_AT}:${body}`),
        "x-grafana-alerting-timestamp": String(SIGNED_AT),
      },
      rawBody: body,
    } as unknown as HttpEvent;
    try {
      // biome-ignore lint/suspicious/noExplicitAny: middy's request object, only `event` is read.
      await check.before!({ event } as any);
      return "valid";
    } catch (error) {
      return (error as Error).message.includes("more than 5 minutes") ? "stale" : "other";
    }
  };

  it.each([
    [SIGNATURE_WINDOW_SECONDS, "valid"],
    [-SIGNATURE_WINDOW_SECONDS, "valid"],
    [SIGNATURE_WINDOW_SECONDS + 1, "stale"],
    [-SIGNATURE_WINDOW_SECONDS - 1, "stale"],
  ])("%s s from the clock: %s for both", async (offset, verdict) => {
    expect(slack(offset)).toBe(verdict);
    expect(await grafana(offset)).toBe(verdict);
  });
});

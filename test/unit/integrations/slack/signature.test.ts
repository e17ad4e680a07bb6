import { describe, expect, it } from "vitest";
import { SIGNATURE_WINDOW_SECONDS } from "../../../../functions/adapters/http/signatures.js";
import {
  type SignatureVerdict,
  verifySlackSignature,
} from "../../../../functions/integrations/slack/signature.js";
import { slackSignature } from "../../../support/slack-click.js";

// Slack's own example (https://api.slack.com/authentication/verifying-requests-from-slack).
const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const BODY =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const TIMESTAMP = "1531420618";
const SIGNED_AT = new Date(Number(TIMESTAMP) * 1000);
const SLACK_EXAMPLE_SIGNATURE =
  "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

const seconds = (n: number) => new Date(SIGNED_AT.getTime() + n * 1000);

describe("verifySlackSignature", () => {
  it("accepts Slack's documented example", () => {
    // Prepare: the helper the other tests sign with agrees with Slack's example.
    expect(slackSignature(SECRET, TIMESTAMP, BODY)).toBe(SLACK_EXAMPLE_SIGNATURE);
    // Act
    const verdict = verifySlackSignature({
      signingSecret: SECRET,
      timestamp: TIMESTAMP,
      signature: SLACK_EXAMPLE_SIGNATURE,
      rawBody: BODY,
      now: seconds(2),
    });
    // Assess
    expect(verdict).toBe("valid");
  });

  const cases: Array<{
    name: string;
    secret?: string;
    timestamp?: string | undefined;
    signature?: string | undefined;
    body?: string;
    now: Date;
    verdict: SignatureVerdict;
  }> = [
    { name: "just signed", now: SIGNED_AT, verdict: "valid" },
    { name: "exactly five minutes old", now: seconds(300), verdict: "valid" },
    { name: "clock skew: signed five minutes ahead", now: seconds(-300), verdict: "valid" },
    { name: "no timestamp header", timestamp: undefined, now: SIGNED_AT, verdict: "missing" },
    { name: "no signature header", signature: undefined, now: SIGNED_AT, verdict: "missing" },
    { name: "empty headers", timestamp: "", signature: "", now: SIGNED_AT, verdict: "missing" },
    { name: "older than five minutes", now: seconds(301), verdict: "stale" },
    { name: "a day old", now: seconds(86_400), verdict: "stale" },
    { name: "more than five minutes in the future", now: seconds(-301), verdict: "stale" },
    { name: "non-numeric timestamp", timestamp: "yesterday", now: SIGNED_AT, verdict: "stale" },
    { name: "fractional timestamp", timestamp: `${TIMESTAMP}.5`, now: SIGNED_AT, verdict: "stale" },
    { name: "negative timestamp", timestamp: `-${TIMESTAMP}`, now: SIGNED_AT, verdict: "stale" },
    { name: "another app's secret", secret: "not-the-secret", now: SIGNED_AT, verdict: "mismatch" },
    {
      name: "body altered by one byte",
      body: BODY.replace("user_name=roadrunner", "user_name=roadrunnes"),
      now: SIGNED_AT,
      verdict: "mismatch",
    },
    { name: "body with a byte appended", body: `${BODY}&`, now: SIGNED_AT, verdict: "mismatch" },
    {
      name: "timestamp moved by one second (signed over the old one)",
      timestamp: String(Number(TIMESTAMP) + 1),
      now: SIGNED_AT,
      verdict: "mismatch",
    },
    {
      name: "signature without its v0= prefix",
      signature: SLACK_EXAMPLE_SIGNATURE.slice(3),
      now: SIGNED_AT,
      verdict: "mismatch",
    },
    {
      name: "signature truncated",
      signature: SLACK_EXAMPLE_SIGNATURE.slice(0, -1),
      now: SIGNED_AT,
      verdict: "mismatch",
    },
    {
      name: "signature in upper-case hex",
      signature: `v0=${SLACK_EXAMPLE_SIGNATURE.slice(3).toUpperCase()}`,
      now: SIGNED_AT,
      verdict: "mismatch",
    },
  ];

  it.each(cases)("$name → $verdict", (c) => {
    // Prepare: Slack's example, signed with its secret, changed as the case says.
    const input = {
      signingSecret: c.secret ?? SECRET,
      timestamp: "timestamp" in c ? c.timestamp : TIMESTAMP,
      signature: "signature" in c ? c.signature : SLACK_EXAMPLE_SIGNATURE,
      rawBody: c.body ?? BODY,
      now: c.now,
    };
    // Act
    const verdict = verifySlackSignature(input);
    // Assess
    expect(verdict).toBe(c.verdict);
  });

  it("refuses a replay of a valid request once five minutes have passed", () => {
    // Prepare: a request an attacker captured, valid when it was sent.
    const captured = {
      signingSecret: SECRET,
      timestamp: TIMESTAMP,
      signature: SLACK_EXAMPLE_SIGNATURE,
      rawBody: BODY,
    };
    // Act: replayed byte for byte, within and after the window.
    const inTime = verifySlackSignature({ ...captured, now: seconds(60) });
    const replayed = verifySlackSignature({
      ...captured,
      now: seconds(SIGNATURE_WINDOW_SECONDS + 1),
    });
    // Assess
    expect(inTime).toBe("valid");
    expect(replayed).toBe("stale");
  });

  it("judges the age before the signature: a forged stale request is stale, not mismatched", () => {
    // Act
    const verdict = verifySlackSignature({
      signingSecret: SECRET,
      timestamp: TIMESTAMP,
      signature: "v0=forged",
      rawBody: BODY,
      now: seconds(3_600),
    });
    // Assess
    expect(verdict).toBe("stale");
  });
});

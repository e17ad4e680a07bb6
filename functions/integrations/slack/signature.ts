import { createHmac, timingSafeEqual } from "node:crypto";

/** Slack refuses requests older than five minutes; so do we (replays). */
export const MAX_SIGNATURE_AGE_SECONDS = 300;

export type SignatureVerdict = "valid" | "missing" | "stale" | "mismatch";

/**
 * Verifies a Slack request signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>`
 * with the app's signing secret, compared in constant time; a timestamp more than five
 * minutes from `now` is refused whatever the signature.
 * https://api.slack.com/authentication/verifying-requests-from-slack
 */
export function verifySlackSignature(input: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: string;
  now: Date;
}): SignatureVerdict {
  const { timestamp, signature } = input;
  if (!timestamp || !signature) return "missing";
  const seconds = Number(timestamp);
  if (
    !/^\d+$/.test(timestamp) ||
    Math.abs(input.now.getTime() / 1000 - seconds) > MAX_SIGNATURE_AGE_SECONDS
  )
    return "stale";
  const expected = `v0=${createHmac("sha256", input.signingSecret).update(`v0:${timestamp}:${input.rawBody}`).digest("hex")}`;
  const a = Buffer.from(expected);
  const b = Buffer.from(signature);
  return a.length === b.length && timingSafeEqual(a, b) ? "valid" : "mismatch";
}

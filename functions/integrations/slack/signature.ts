import {
  hmacSha256Hex,
  signaturesEqual,
  withinSignatureWindow,
} from "../../adapters/http/signatures.js";

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
  if (!/^\d+$/.test(timestamp) || !withinSignatureWindow(seconds, input.now)) return "stale";
  const expected = `v0=${hmacSha256Hex(input.signingSecret, `v0:${timestamp}:${input.rawBody}`)}`;
  return signaturesEqual(signature, expected) ? "valid" : "mismatch";
}

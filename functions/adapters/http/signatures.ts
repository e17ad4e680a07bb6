import { createHmac } from "node:crypto";
import { secretsEqual } from "./auth.js";

/**
 * How far a signed request's timestamp may be from tocsin's clock, either way, in seconds.
 * Slack refuses requests older than five minutes and tells apps to do the same (replays);
 * Grafana's timestamped webhook signatures are held to the same window.
 * https://api.slack.com/authentication/verifying-requests-from-slack
 */
export const SIGNATURE_WINDOW_SECONDS = 300;

/** Lowercase hex HMAC-SHA256 of `message` under `secret` (Slack's v0, Grafana's webhook HMAC). */
export function hmacSha256Hex(secret: string, message: string): string {
  return createHmac("sha256", secret).update(message).digest("hex");
}

/** Whether a signature's Unix time (seconds) is inside the window around `now`. */
export function withinSignatureWindow(timestampSeconds: number, now: Date): boolean {
  return Math.abs(now.getTime() / 1000 - timestampSeconds) <= SIGNATURE_WINDOW_SECONDS;
}

/** Compares a presented signature with the expected one in constant time (lengths leak nothing). */
export function signaturesEqual(presented: string, expected: string): boolean {
  return secretsEqual(presented, expected);
}

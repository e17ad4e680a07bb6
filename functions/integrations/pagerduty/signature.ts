import { createHmac, timingSafeEqual } from "node:crypto";

/** What a request's `X-PagerDuty-Signature` came to against the configured secrets. */
export type PagerDutySignatureVerdict = "valid" | "missing" | "malformed" | "forged";

/**
 * Verifies a v3 webhook's `X-PagerDuty-Signature` as PagerDuty documents it
 * (https://developer.pagerduty.com/docs/webhooks/webhook-signatures/): the header holds one
 * or more comma-separated signatures (several while a secret rotates), those of version
 * `v1` are `v1=<hex HMAC-SHA256 of the raw body>` under a subscription's secret, and one
 * match is enough. Every v1 entry is checked against every secret (ours may rotate too),
 * in constant time on equal lengths; an entry that is not 64 hex digits matches nothing.
 * `malformed`: a header with no v1 entry at all.
 */
export function verifyPagerDutySignature(request: {
  secrets: readonly string[];
  header: string | undefined;
  rawBody: string;
}): PagerDutySignatureVerdict {
  const header = request.header?.trim();
  if (!header) return "missing";
  const presented = header
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith("v1="))
    .map((entry) => entry.slice(3));
  if (presented.length === 0) return "malformed";
  const candidates = presented
    .filter((hex) => /^[0-9a-f]{64}$/i.test(hex))
    .map((hex) => Buffer.from(hex, "hex"));
  let valid = false;
  for (const secret of request.secrets) {
    if (secret === "") continue;
    const expected = createHmac("sha256", secret).update(request.rawBody, "utf8").digest();
    // No early exit: the time taken does not depend on which entry matched.
    for (const candidate of candidates) {
      if (timingSafeEqual(candidate, expected)) valid = true;
    }
  }
  return valid ? "valid" : "forged";
}

/** The secrets of PAGERDUTY_WEBHOOK_SECRETS: a comma-separated list, blanks ignored. */
export function webhookSecrets(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((secret) => secret.trim())
    .filter((secret) => secret !== "");
}

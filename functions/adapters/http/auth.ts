import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { HttpError } from "./http-errors.js";
import type { HttpEvent, HttpMiddleware } from "./types.js";

/** Where a secret comes from: a value at hand locally, a cached Secrets Manager read on AWS. */
export type SecretSource = () => string | Promise<string>;

/** Compares secrets in constant time (hashing first so lengths leak nothing either). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token in `Authorization: Bearer <token>` or the password of Basic auth, if any. */
export function presentedToken(event: HttpEvent): string | null {
  const header = event.headers.authorization ?? "";
  const [scheme, value] = header.split(/\s+/, 2);
  if (!scheme || !value) return null;
  if (scheme.toLowerCase() === "bearer") return value;
  if (scheme.toLowerCase() === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon >= 0 ? decoded.slice(colon + 1) : null;
  }
  return null;
}

const unauthorized = (message: string) =>
  new HttpError(401, "unauthorized", message, { "www-authenticate": 'Bearer realm="tocsin"' });

/** Requires the token as a Bearer token or as Basic auth's password. */
export function requireToken(token: SecretSource): HttpMiddleware {
  return {
    before: async ({ event }) => {
      const given = presentedToken(event);
      if (given === null) throw unauthorized("send the token as 'Authorization: Bearer <token>'");
      if (!secretsEqual(given, await token())) throw unauthorized("the token is not valid");
    },
  };
}

export const GRAFANA_SIGNATURE_HEADER = "x-grafana-alerting-signature";
/** Grafana lets the contact point name its timestamp header; these are the names its docs use. */
export const GRAFANA_TIMESTAMP_HEADERS = [
  "x-grafana-alerting-timestamp",
  "x-grafana-alerting-signature-timestamp",
];
const MAX_SIGNATURE_AGE_SECONDS = 300;

/**
 * Verifies Grafana's webhook HMAC: hex HMAC-SHA256 of the raw body, or of
 * `<timestamp>:<body>` when the contact point also sends a timestamp header (then
 * older than 5 minutes is refused). Runs after jsonBody, which sets rawBody.
 * https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
 */
export function requireGrafanaSignature(
  secret: () => Promise<string | undefined> | string | undefined,
  nowSeconds: () => number,
): HttpMiddleware {
  return {
    before: async ({ event }) => {
      const key = await secret();
      if (!key) return;
      const signature = event.headers[GRAFANA_SIGNATURE_HEADER];
      if (!signature) throw unauthorized(`the ${GRAFANA_SIGNATURE_HEADER} header is missing`);
      const timestamp = GRAFANA_TIMESTAMP_HEADERS.map((name) => event.headers[name]).find(
        (v) => v !== undefined,
      );
      if (timestamp !== undefined) {
        const age = Math.abs(nowSeconds() - Number(timestamp));
        if (!Number.isFinite(age) || age > MAX_SIGNATURE_AGE_SECONDS)
          throw unauthorized("the signature timestamp is stale");
      }
      const signed =
        timestamp !== undefined ? `${timestamp}:${event.rawBody ?? ""}` : (event.rawBody ?? "");
      const expected = createHmac("sha256", key).update(signed).digest("hex");
      if (!secretsEqual(signature.trim().toLowerCase(), expected))
        throw unauthorized("the signature does not match");
    },
  };
}

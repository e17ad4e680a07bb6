import { unauthorized } from "../../adapters/http/auth.js";
import {
  hmacSha256Hex,
  signaturesEqual,
  withinSignatureWindow,
} from "../../adapters/http/signatures.js";
import type { HttpMiddleware } from "../../adapters/http/types.js";
import { InvalidConfigError } from "../../core/errors.js";

/**
 * Which request headers carry Grafana's HMAC signature and its timestamp: the webhook
 * contact point's `hmacConfig.header` and `hmacConfig.timestampHeader`, lower case (as API
 * Gateway and Node hand headers over).
 */
export interface GrafanaSignatureHeaders {
  signature: string;
  /**
   * Where the signing time must be. Grafana has no default: without `timestampHeader` it
   * signs the body alone. Null here: no name was configured, so tocsin takes a timestamp
   * from the usual names when one is sent, and verifies the body alone otherwise.
   */
  timestamp: string | null;
}

/** Grafana's own default for `hmacConfig.header` (http/hmac.go in grafana/alerting). */
export const GRAFANA_DEFAULT_SIGNATURE_HEADER = "x-grafana-alerting-signature";
/** Timestamp header names taken when none is configured. */
const USUAL_TIMESTAMP_HEADERS = [
  "x-grafana-alerting-timestamp",
  "x-grafana-alerting-signature-timestamp",
];
export const DEFAULT_GRAFANA_HEADERS: GrafanaSignatureHeaders = {
  signature: GRAFANA_DEFAULT_SIGNATURE_HEADER,
  timestamp: null,
};

/** An HTTP field name (RFC 9110 token). */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers that mean something else to tocsin or to HTTP. */
const TAKEN = new Set(["authorization", "content-type", "content-length", "host", "cookie"]);

/**
 * The header names from TOCSIN_GRAFANA_SIGNATURE_HEADER and TOCSIN_GRAFANA_TIMESTAMP_HEADER
 * (locally from the environment; on AWS the stack sets them from `-c grafanaSignatureHeader`
 * and `-c grafanaTimestampHeader`). Throws InvalidConfigError naming the variable.
 */
export function grafanaSignatureHeaders(
  env: Readonly<Record<string, string | undefined>>,
): GrafanaSignatureHeaders {
  const name = (variable: string): string | null => {
    const value = env[variable]?.trim();
    if (!value) return null;
    if (!FIELD_NAME.test(value))
      throw new InvalidConfigError(`${variable} must be an HTTP header name, not "${value}"`);
    if (TAKEN.has(value.toLowerCase()))
      throw new InvalidConfigError(`${variable} cannot be ${value}: that header has another use`);
    return value.toLowerCase();
  };
  const signature = name("TOCSIN_GRAFANA_SIGNATURE_HEADER") ?? GRAFANA_DEFAULT_SIGNATURE_HEADER;
  const timestamp = name("TOCSIN_GRAFANA_TIMESTAMP_HEADER");
  if (timestamp === signature) {
    throw new InvalidConfigError(
      "TOCSIN_GRAFANA_TIMESTAMP_HEADER and TOCSIN_GRAFANA_SIGNATURE_HEADER name the same header",
    );
  }
  return { signature, timestamp };
}

/**
 * Verifies Grafana's webhook HMAC when a secret is set: lowercase hex HMAC-SHA256 of the
 * raw body or, when the contact point sends a timestamp header, of `<timestamp>:<body>`
 * (then older than 5 minutes is refused). Each refusal says which header was expected.
 * Runs after rawBody. Grafana's signing: `http/hmac.go` in grafana/alerting;
 * https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
 */
export function requireGrafanaSignature(
  secret: () => Promise<string | undefined> | string | undefined,
  now: () => Date,
  headers: GrafanaSignatureHeaders = DEFAULT_GRAFANA_HEADERS,
): HttpMiddleware {
  return {
    before: async ({ event }) => {
      const key = await secret();
      if (!key) return;
      const signature = event.headers[headers.signature]?.trim();
      if (!signature) {
        throw unauthorized(
          `the ${headers.signature} header is missing: with an HMAC secret set, tocsin expects ` +
            "Grafana's signature there (the contact point's HMAC header; TOCSIN_GRAFANA_SIGNATURE_HEADER)",
        );
      }
      // An empty header is no header: some proxies keep the name of one they emptied.
      const found = (headers.timestamp ? [headers.timestamp] : USUAL_TIMESTAMP_HEADERS)
        .map((name) => ({ name, value: event.headers[name]?.trim() || undefined }))
        .find((header) => header.value !== undefined);
      if (headers.timestamp && found === undefined) {
        throw unauthorized(
          `the ${headers.timestamp} header is missing: TOCSIN_GRAFANA_TIMESTAMP_HEADER says the ` +
            "signature timestamp comes there (set it as the contact point's HMAC timestamp header)",
        );
      }
      const body = event.rawBody ?? "";
      let signed = body;
      if (found?.value !== undefined) {
        const timestamp = found.value;
        if (!/^\d{1,15}$/.test(timestamp))
          throw unauthorized(`the ${found.name} header is not a Unix time in seconds`);
        if (!withinSignatureWindow(Number(timestamp), now())) {
          throw unauthorized(
            `the signature timestamp in ${found.name} is more than 5 minutes from tocsin's clock`,
          );
        }
        signed = `${timestamp}:${body}`;
      }
      if (signaturesEqual(signature.toLowerCase(), hmacSha256Hex(key, signed))) return;
      throw unauthorized(
        found?.value !== undefined
          ? `the signature in ${headers.signature} does not match <${found.name}>:<body>: check the HMAC secret`
          : `the signature in ${headers.signature} does not match the body: check the HMAC secret; ` +
              "if the contact point sets a timestamp header, name it in TOCSIN_GRAFANA_TIMESTAMP_HEADER",
      );
    },
  };
}

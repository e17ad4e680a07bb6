import { HttpError } from "./http-errors.js";
import type { HttpMiddleware } from "./types.js";

/** Lambda's limit on a synchronous invocation's payload: the whole API Gateway event. */
export const LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** What the event holds besides the body: headers, request context, JSON (64 KB is ample). */
const EVENT_OVERHEAD_BYTES = 64 * 1024;

/**
 * The largest body tocsin takes, 4,669,440 bytes (~4.45 MiB): what Lambda can be handed
 * inside its 6 MB payload when API Gateway base64-encodes the body into the event (4 bytes
 * for every 3). API Gateway's HTTP API itself takes 10 MB; a body over this never reaches
 * the function on AWS, so the local server refuses it too, with the same 413.
 */
export const MAX_BODY_BYTES = Math.floor(((LAMBDA_PAYLOAD_BYTES - EVENT_OVERHEAD_BYTES) * 3) / 4);

/**
 * Recovers the raw body (API Gateway base64-encodes some) into `rawBody`, refusing more
 * than `limit` bytes with 413 before anything else reads it.
 */
export function rawBody(limit = MAX_BODY_BYTES): HttpMiddleware {
  return {
    before: async ({ event }) => {
      const bytes = Buffer.from(event.body ?? "", event.isBase64Encoded ? "base64" : "utf8");
      if (bytes.length > limit) {
        throw new HttpError(
          413,
          "payload_too_large",
          `the body is ${bytes.length} bytes; the limit is ${limit}`,
        );
      }
      event.rawBody = bytes.toString("utf8");
    },
  };
}

/** Parses `rawBody` as JSON into `jsonBody`; malformed JSON is a 400. */
export function jsonBody(): HttpMiddleware {
  return {
    before: async ({ event }) => {
      try {
        event.jsonBody = JSON.parse(event.rawBody ?? "");
      } catch (error) {
        throw new HttpError(
          400,
          "malformed_json",
          `the body is not JSON: ${(error as Error).message}`,
        );
      }
    },
  };
}

import { HttpError } from "./http-errors.js";
import type { HttpMiddleware } from "./types.js";

export const MAX_BODY_BYTES = 1024 * 1024;

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

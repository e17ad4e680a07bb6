import { InvalidParameterError } from "../../core/errors.js";

/** A DynamoDB LastEvaluatedKey as an opaque, URL-safe cursor. */
export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/** Decodes a cursor made by encodeCursor; anything else is a 400 naming `cursor`. */
export function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      key &&
      typeof key === "object" &&
      !Array.isArray(key) &&
      Object.values(key).every((v) => typeof v === "string")
    ) {
      return key as Record<string, unknown>;
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidParameterError("cursor", "not a cursor this API returned");
}

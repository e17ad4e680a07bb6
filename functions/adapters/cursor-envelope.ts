import { InvalidParameterError } from "../core/errors.js";

/**
 * A list cursor as every store hands it out: opaque, URL-safe base64 of JSON holding the
 * listing it pages (`l`: the store's own token for the query and its filters) and where
 * the next page starts (`k`: the store's own key). A cursor of another listing, or not one
 * at all, is refused as a 400 naming `cursor` before the store reads anything.
 */

/** Longer than any cursor a store makes (a key of four short strings and a digest). */
const MAX_CURSOR_LENGTH = 2048;

/** `key`, where the next page of `listing` starts, as a cursor. */
export function sealCursor(listing: string, key: unknown): string {
  return Buffer.from(JSON.stringify({ l: listing, k: key })).toString("base64url");
}

/**
 * The key in a cursor that sealCursor made for `listing`. `keyProblem` says what is wrong
 * with a key that is not one of the listing's (undefined: it is one).
 */
export function openCursor(
  listing: string,
  cursor: string,
  keyProblem: (key: unknown) => string | undefined,
): unknown {
  const refuse = (why: string) =>
    new InvalidParameterError("cursor", `not a cursor this API returned for this listing (${why})`);
  if (cursor.length > MAX_CURSOR_LENGTH) throw refuse("too long");
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw refuse("not one at all");
  }
  const { l, k } = (decoded ?? {}) as { l?: unknown; k?: unknown };
  if (l !== listing) throw refuse("it pages a listing with other filters");
  const problem = keyProblem(k);
  if (problem) throw refuse(problem);
  return k;
}

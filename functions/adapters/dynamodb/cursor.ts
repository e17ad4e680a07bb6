import { createHash } from "node:crypto";
import { isIncidentId } from "../../core/incident-id.js";
import { openCursor, sealCursor } from "../cursor-envelope.js";
import { TABLE_KEYS } from "./table-schema.js";

/**
 * One listing that a cursor pages through: the index and partition it queries, the sort-key
 * range, and the filters applied to what it reads. A cursor carries a digest of it, so a
 * cursor from one listing is refused by every other (DynamoDB would either fail, with a key
 * of another index, or page through the wrong results).
 */
export interface Listing {
  index: { name: string; partition: string; sort: string };
  partition: string;
  /** The sort-key range, inclusive, when the listing has one. */
  range?: { from: string; to: string } | undefined;
  filters: Record<string, string | number>;
}

function digest(listing: Listing): string {
  const filters = Object.entries(listing.filters).sort(([a], [b]) => a.localeCompare(b));
  const shape = [listing.index.name, listing.partition, listing.range ?? null, filters];
  return createHash("sha256").update(JSON.stringify(shape)).digest("base64url").slice(0, 22);
}

/** A DynamoDB LastEvaluatedKey of `listing` as an opaque, URL-safe cursor. */
export function encodeCursor(listing: Listing, key: Record<string, unknown>): string {
  return sealCursor(digest(listing), key);
}

/** True when `key` is an incident's key on the listing's index, in its partition and range. */
function incidentKeyOf(listing: Listing, key: Record<string, unknown>): boolean {
  const { index } = listing;
  const names = [TABLE_KEYS.partition, TABLE_KEYS.sort, index.partition, index.sort];
  if (Object.keys(key).length !== new Set(names).size) return false;
  if (!names.every((name) => typeof key[name] === "string")) return false;
  const pk = key[TABLE_KEYS.partition] as string;
  const id = pk.slice("INC#".length);
  const sort = key[index.sort] as string;
  return (
    pk.startsWith("INC#") &&
    isIncidentId(id) &&
    key[TABLE_KEYS.sort] === "INC" &&
    key[index.partition] === listing.partition &&
    sort.endsWith(`#${id}`) &&
    (!listing.range || (sort >= listing.range.from && sort <= listing.range.to))
  );
}

/**
 * The ExclusiveStartKey in a cursor that encodeCursor made for this very listing: an
 * incident's key on its index, in its partition and range. Anything else is a 400 naming
 * `cursor`, before DynamoDB sees it.
 */
export function decodeCursor(listing: Listing, cursor: string): Record<string, unknown> {
  return openCursor(digest(listing), cursor, (k) => {
    if (!k || typeof k !== "object" || Array.isArray(k)) return "no key";
    if (!incidentKeyOf(listing, k as Record<string, unknown>)) return "not a key of it";
    return undefined;
  }) as Record<string, unknown>;
}

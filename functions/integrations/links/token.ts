import { createHmac, timingSafeEqual } from "node:crypto";
import type { LinkMaker } from "../../core/notification.js";

/** What an acknowledgement link lets its holder do: act on one incident as one person. */
export interface LinkClaims {
  incidentId: string;
  userId: string;
  action: "acknowledge" | "resolve";
  /** Unix seconds after which the link is refused. */
  expiresAt: number;
}

/*
 * A token is base64url(payload) "." base64url(mac), short enough for an SMS (63 characters
 * for a UUID incident and a 12-character user id). Payload bytes:
 *   version 1: 0x01 | action a|r | expiresAt uint32 BE | incident UUID, 16 bytes | userId UTF-8
 *   version 2: 0x02 | action a|r | expiresAt uint32 BE | id length, 1 byte | id UTF-8 | userId UTF-8
 * (version 2 for incident ids that are not lowercase UUIDs). The mac is the first 12 bytes
 * (96 bits) of HMAC-SHA256(key, payload): a forger has to guess it online, one request at a
 * time, and the full 32 bytes would make the token too long for one SMS segment with its text.
 */
const MAC_BYTES = 12;
const ACTIONS = { a: "acknowledge", r: "resolve" } as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** The longest token worth decoding: a 128-byte incident id and a long user id. */
const MAX_TOKEN_LENGTH = 512;

function mac(key: string, payload: Buffer): Buffer {
  return createHmac("sha256", key).update(payload).digest().subarray(0, MAC_BYTES);
}

function payloadOf(claims: LinkClaims): Buffer {
  const action = Buffer.from(claims.action === "acknowledge" ? "a" : "r", "latin1");
  const expires = Buffer.alloc(4);
  expires.writeUInt32BE(claims.expiresAt);
  const user = Buffer.from(claims.userId, "utf8");
  if (UUID.test(claims.incidentId)) {
    const incident = Buffer.from(claims.incidentId.replaceAll("-", ""), "hex");
    return Buffer.concat([Buffer.of(1), action, expires, incident, user]);
  }
  const incident = Buffer.from(claims.incidentId, "utf8");
  if (incident.length > 255) throw new RangeError("an incident id of a link is at most 255 bytes");
  return Buffer.concat([Buffer.of(2), action, expires, Buffer.of(incident.length), incident, user]);
}

/** Signs `claims` with `key` into a link token. */
export function signLink(key: string, claims: LinkClaims): string {
  if (!Number.isInteger(claims.expiresAt) || claims.expiresAt < 0 || claims.expiresAt > 0xffffffff)
    throw new RangeError("a link's expiry is a Unix time in seconds");
  if (claims.userId === "") throw new RangeError("a link acts as a person");
  const payload = payloadOf(claims);
  return `${payload.toString("base64url")}.${mac(key, payload).toString("base64url")}`;
}

/** Decodes base64url strictly: Node's decoder skips what is not base64, so a re-encoding must match. */
function strictBase64Url(text: string): Buffer | null {
  if (!BASE64URL.test(text)) return null;
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? bytes : null;
}

function claimsOf(payload: Buffer): (Omit<LinkClaims, "expiresAt"> & { expiresAt: number }) | null {
  const version = payload[0];
  const action = ACTIONS[String.fromCharCode(payload[1] ?? 0) as keyof typeof ACTIONS];
  if (!action || payload.length < 6) return null;
  const expiresAt = payload.readUInt32BE(2);
  let incidentId: string;
  let rest: Buffer;
  if (version === 1) {
    if (payload.length < 6 + 16) return null;
    const hex = payload.subarray(6, 22).toString("hex");
    incidentId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    rest = payload.subarray(22);
  } else if (version === 2) {
    const length = payload[6] ?? 0;
    if (length === 0 || payload.length < 7 + length) return null;
    incidentId = payload.subarray(7, 7 + length).toString("utf8");
    rest = payload.subarray(7 + length);
  } else return null;
  const userId = rest.toString("utf8");
  // Bytes that are not UTF-8 decode to U+FFFD: never a user id tocsin signed.
  if (userId === "" || userId.includes("\uFFFD") || incidentId.includes("\uFFFD")) return null;
  return { incidentId, userId, action, expiresAt };
}

export type LinkVerdict =
  | { ok: true; claims: LinkClaims; mac: string }
  | { ok: false; reason: "malformed" | "forged" | "expired" };

/**
 * Verifies a link token against every key in `keys` (the current one first; older ones while
 * they are rotated out), in constant time per key. The mac is checked before anything in the
 * payload is read, so a changed byte anywhere is `forged`; a genuine token past its expiry
 * (`nowSeconds`, Unix) is `expired`. `mac` (hex) names the token for the replay guard.
 */
export function verifyLink(
  keys: readonly string[],
  token: string,
  nowSeconds: number,
): LinkVerdict {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: "malformed" };
  const parts = token.split(".");
  if (parts.length !== 2) return { ok: false, reason: "malformed" };
  const payload = strictBase64Url(parts[0]!);
  const presented = strictBase64Url(parts[1]!);
  if (!payload || !presented || presented.length !== MAC_BYTES || payload.length < 6)
    return { ok: false, reason: "malformed" };
  const genuine = keys.some((key) => key !== "" && timingSafeEqual(mac(key, payload), presented));
  if (!genuine) return { ok: false, reason: "forged" };
  const claims = claimsOf(payload);
  if (!claims) return { ok: false, reason: "malformed" };
  if (nowSeconds > claims.expiresAt) return { ok: false, reason: "expired" };
  return { ok: true, claims, mac: presented.toString("hex") };
}

/**
 * The links of a deployment: signed with the first of `keys`, good for `ttlSeconds` from the
 * message that carries them, at `publicUrl` + `/a/<token>`. Without a key or a public URL
 * it makes none (messages then go without links).
 */
export function linkMaker(o: {
  keys: readonly string[];
  publicUrl?: string | undefined;
  ttlSeconds: number;
}): LinkMaker {
  const key = o.keys[0];
  const base = o.publicUrl?.replace(/\/+$/, "");
  if (!key || !base) return () => undefined;
  return (claims, now) => {
    const expiresAt = Math.floor(Date.parse(now) / 1000) + o.ttlSeconds;
    return `${base}/a/${signLink(key, { ...claims, expiresAt })}`;
  };
}

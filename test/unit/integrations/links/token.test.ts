import { describe, expect, it } from "vitest";
import { linkMaker, signLink, verifyLink } from "../../../../functions/integrations/links/token.js";

const KEY = "k3y-for-links-0123456789abcdef";
const OLD_KEY = "the-key-before-rotation";
const INCIDENT = "0f8b3c4e-2a71-4d19-9c55-7e0d1b2a3c4d";
const NOW = 1_796_000_000; // 2026-11-30
const claims = {
  incidentId: INCIDENT,
  userId: "alice.martin",
  action: "acknowledge" as const,
  expiresAt: NOW + 3_600,
};

/** The token with one byte of its decoded payload or mac changed. */
function flipped(token: string, part: 0 | 1, byte: number): string {
  const parts = token.split(".");
  const bytes = Buffer.from(parts[part]!, "base64url");
  bytes[byte] = bytes[byte]! ^ 0x01;
  parts[part] = bytes.toString("base64url");
  return parts.join(".");
}

describe("link tokens", () => {
  it("round-trips the claims, and is at most 64 characters for a UUID and a 12-character user", () => {
    const token = signLink(KEY, claims);
    expect(token.length).toBeLessThanOrEqual(64);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const verdict = verifyLink([KEY], token, NOW);
    expect(verdict).toEqual({ ok: true, claims, mac: expect.stringMatching(/^[0-9a-f]{24}$/) });
  });

  it("carries an incident id that is not a UUID (version 2) and a resolve", () => {
    const other = {
      ...claims,
      incidentId: "inc-4242-7",
      userId: "ödön",
      action: "resolve" as const,
    };
    const token = signLink(KEY, other);
    expect(Buffer.from(token.split(".")[0]!, "base64url")[0]).toBe(2);
    expect(verifyLink([KEY], token, NOW)).toMatchObject({ ok: true, claims: other });
    // An uppercase UUID is not the canonical form tocsin makes: kept verbatim.
    const upper = { ...claims, incidentId: INCIDENT.toUpperCase() };
    expect(verifyLink([KEY], signLink(KEY, upper), NOW)).toMatchObject({ claims: upper });
  });

  it("is forged when any byte of the payload or the mac is changed", () => {
    const token = signLink(KEY, claims);
    const [payload, mac] = token.split(".").map((p) => Buffer.from(p, "base64url"));
    for (let i = 0; i < payload!.length; i++)
      expect(verifyLink([KEY], flipped(token, 0, i), NOW), `payload byte ${i}`).toEqual({
        ok: false,
        reason: "forged",
      });
    for (let i = 0; i < mac!.length; i++)
      expect(verifyLink([KEY], flipped(token, 1, i), NOW), `mac byte ${i}`).toEqual({
        ok: false,
        reason: "forged",
      });
  });

  it("is forged under another key, and accepted under any key of a rotation", () => {
    const token = signLink(OLD_KEY, claims);
    expect(verifyLink([KEY], token, NOW)).toEqual({ ok: false, reason: "forged" });
    expect(verifyLink([KEY, OLD_KEY], token, NOW)).toMatchObject({ ok: true });
    expect(verifyLink([], token, NOW)).toEqual({ ok: false, reason: "forged" });
  });

  it("expires after its expiry second, not before", () => {
    const token = signLink(KEY, claims);
    expect(verifyLink([KEY], token, claims.expiresAt)).toMatchObject({ ok: true });
    expect(verifyLink([KEY], token, claims.expiresAt + 1)).toEqual({
      ok: false,
      reason: "expired",
    });
  });

  it.each([
    ["empty", ""],
    ["no dot", "abcdef"],
    ["two dots", "a.b.c"],
    ["not base64url", "ab+c/d.ef=="],
    ["padding", `${signLink(KEY, claims)}=`],
    ["a short mac", `${signLink(KEY, claims).split(".")[0]}.AAAA`],
    ["a short payload", "AQE.AAAAAAAAAAAAAAAA"],
    ["huge", "A".repeat(100_000)],
  ])("is malformed when %s", (_, token) => {
    expect(verifyLink([KEY], token, NOW)).toEqual({ ok: false, reason: "malformed" });
  });

  it("is malformed when a genuine mac covers a payload tocsin never makes", async () => {
    const { createHmac } = await import("node:crypto");
    const sign = (payload: Buffer) =>
      `${payload.toString("base64url")}.${createHmac("sha256", KEY).update(payload).digest().subarray(0, 12).toString("base64url")}`;
    const expires = Buffer.alloc(4);
    expires.writeUInt32BE(NOW + 60);
    const uuid = Buffer.alloc(16, 7);
    expect(
      verifyLink(
        [KEY],
        sign(Buffer.concat([Buffer.of(9, 97), expires, uuid, Buffer.from("a")])),
        NOW,
      ),
    ).toMatchObject({ reason: "malformed" });
    expect(
      verifyLink(
        [KEY],
        sign(Buffer.concat([Buffer.of(1, 120), expires, uuid, Buffer.from("a")])),
        NOW,
      ),
    ).toMatchObject({ reason: "malformed" });
    expect(
      verifyLink([KEY], sign(Buffer.concat([Buffer.of(1, 97), expires, uuid])), NOW),
    ).toMatchObject({ reason: "malformed" });
    expect(
      verifyLink(
        [KEY],
        sign(Buffer.concat([Buffer.of(2, 97), expires, Buffer.of(40), Buffer.from("x")])),
        NOW,
      ),
    ).toMatchObject({ reason: "malformed" });
    expect(
      verifyLink(
        [KEY],
        sign(Buffer.concat([Buffer.of(1, 97), expires, uuid, Buffer.of(0xff, 0xfe)])),
        NOW,
      ),
    ).toMatchObject({ reason: "malformed" });
  });
});

describe("linkMaker", () => {
  it("makes URLs under the public URL that verify, good for the ttl from the message's time", () => {
    const make = linkMaker({
      keys: [KEY],
      publicUrl: "https://tocsin.example/prod/",
      ttlSeconds: 43_200,
    });
    const now = new Date(NOW * 1000).toISOString();
    const url = make({ incidentId: INCIDENT, userId: "alice", action: "resolve" }, now)!;
    expect(url).toMatch(/^https:\/\/tocsin\.example\/prod\/a\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const verdict = verifyLink([KEY], url.split("/a/")[1]!, NOW);
    expect(verdict).toMatchObject({
      ok: true,
      claims: { incidentId: INCIDENT, userId: "alice", action: "resolve", expiresAt: NOW + 43_200 },
    });
  });

  it("makes none without a key or a public URL", () => {
    const now = new Date(NOW * 1000).toISOString();
    const ask = { incidentId: INCIDENT, userId: "alice", action: "acknowledge" as const };
    expect(
      linkMaker({ keys: [], publicUrl: "https://x", ttlSeconds: 60 })(ask, now),
    ).toBeUndefined();
    expect(linkMaker({ keys: [KEY], ttlSeconds: 60 })(ask, now)).toBeUndefined();
  });
});

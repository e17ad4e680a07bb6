import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  verifyPagerDutySignature,
  webhookSecrets,
} from "../../../../functions/integrations/pagerduty/signature.js";

const BODY = '{"event":{"id":"5ac64822","event_type":"incident.acknowledged","title":"café ☕"}}';
const OLD = "old-secret-0123456789";
const NEW = "new-secret-9876543210";

/** The documented algorithm, step 2: Base16 of the SHA-256 HMAC of the raw body (UTF-8). */
const v1 = (secret: string, body = BODY) =>
  `v1=${createHmac("sha256", Buffer.from(secret, "utf8")).update(Buffer.from(body, "utf8")).digest("hex")}`;

const verdict = (header: string | undefined, secrets = [NEW], rawBody = BODY) =>
  verifyPagerDutySignature({ secrets, header, rawBody });

describe("verifyPagerDutySignature (webhooks/04-Signatures)", () => {
  it("accepts a single v1 signature under the secret", () => {
    expect(verdict(v1(NEW))).toBe("valid");
  });

  it("accepts when one of two v1 signatures matches, in either order (PagerDuty rotating its secret)", () => {
    expect(verdict(`${v1(OLD)},${v1(NEW)}`)).toBe("valid");
    expect(verdict(`${v1(NEW)},${v1(OLD)}`)).toBe("valid");
  });

  it("accepts a signature under any of our secrets (tocsin rotating its list)", () => {
    expect(verdict(v1(OLD), [NEW, OLD])).toBe("valid");
  });

  it("refuses signatures under other secrets, or of another body", () => {
    expect(verdict(`${v1(OLD)},${v1("third")}`)).toBe("forged");
    expect(verdict(v1(NEW), [NEW], `${BODY} `)).toBe("forged");
    expect(verdict(v1(NEW, BODY.replace("café", "cafe")))).toBe("forged");
  });

  it("refuses when no secret is configured", () => {
    expect(verdict(v1(NEW), [])).toBe("forged");
    expect(verdict(v1(""), [""])).toBe("forged");
  });

  it("says missing for no header, malformed for a header without a v1 entry", () => {
    expect(verdict(undefined)).toBe("missing");
    expect(verdict("  ")).toBe("missing");
    expect(verdict("v0=abcdef")).toBe("malformed");
    expect(verdict(v1(NEW).replace("v1=", "v2="))).toBe("malformed");
  });

  it("refuses entries of the wrong length or not hex, without throwing", () => {
    const good = v1(NEW);
    expect(verdict(good.slice(0, -2))).toBe("forged");
    expect(verdict(`${good}00`)).toBe("forged");
    expect(verdict(`${good.slice(0, -1)}g`)).toBe("forged");
    expect(verdict("v1=")).toBe("forged");
  });

  it("reads entries with spaces around the commas, and upper-case hex", () => {
    expect(verdict(` v1=${"0".repeat(64)} , ${v1(NEW).toUpperCase().replace("V1=", "v1=")} `)).toBe(
      "valid",
    );
  });

  it("every flipped hex digit of a valid signature is forged", () => {
    const hex = v1(NEW).slice(3);
    for (let i = 0; i < hex.length; i++) {
      const flipped = hex.slice(0, i) + (hex[i] === "0" ? "1" : "0") + hex.slice(i + 1);
      expect(verdict(`v1=${flipped}`)).toBe("forged");
    }
  });
});

describe("webhookSecrets", () => {
  it("splits PAGERDUTY_WEBHOOK_SECRETS on commas, ignoring blanks", () => {
    expect(webhookSecrets(` ${NEW}, ,${OLD},`)).toEqual([NEW, OLD]);
    expect(webhookSecrets(undefined)).toEqual([]);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  maskPhone,
  maskPhonesIn,
  SMS_MAX_SEGMENTS,
  segments,
  smsText,
} from "../../../../functions/integrations/sms/message.js";
import { incident, notification } from "../../../support/notifications.js";

const LINK =
  "https://tocsin.example.com/a/AQFhZ2x0AAAAAAAAAAAAAAAAAAAAAGFsaWNl.3q2-7wAAAAAAAAAAAAAAAA";

describe("smsText", () => {
  it("says severity, title, team and how to acknowledge, in one segment when short", () => {
    const text = smsText(
      notification("pagerduty", { incident: incident({ title: "Disk full on db-1" }) }),
      {
        ackLink: LINK,
        replies: true,
      },
    );

    expect(text).toBe(`tocsin CRIT Disk full on db-1 (ml-training) Ack: ${LINK} or reply 1`);
    expect(segments(text)).toBe(1);
  });

  it("names the level of an escalation and a test as a test", () => {
    const escalated = smsText(notification("pagerduty", { kind: "escalate", level: 3 }));
    const test = smsText(notification("pagerduty", { incident: incident({ test: true }) }));

    expect(escalated).toMatch(/^tocsin CRIT L3 /);
    expect(test).toMatch(/^tocsin TEST /);
  });

  it.each([
    ["a 300-character title", "Loss is NaN on run ".repeat(16).slice(0, 300)],
    [
      "a title with emoji (UCS-2: 67 characters a segment)",
      `🔥🔥 GPU ${"memory pressure 😱 ".repeat(20)}`,
    ],
    ["a title with line breaks and tabs", `Loss\nis\tNaN ${"x".repeat(400)}`],
    ["a title of one long word", "x".repeat(1000)],
  ])("fits %s into two segments, the link whole and the team kept", (_, title) => {
    const text = smsText(notification("pagerduty", { incident: incident({ title }) }), {
      ackLink: LINK,
      replies: true,
    });

    expect(segments(text)).toBeLessThanOrEqual(SMS_MAX_SEGMENTS);
    expect(text).toContain(` (ml-training) Ack: ${LINK} or reply 1`);
    expect(text).toContain("...");
    expect(text).not.toMatch(/[\r\n\t]/);
  });

  it("for any title (any script, emoji, control characters), fits two segments with the link whole, or keeps the title whole", () => {
    const titles = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 400 }),
      fc.string({ unit: "binary", maxLength: 400 }),
      fc.string({ maxLength: 600 }),
    );
    fc.assert(
      fc.property(titles, fc.boolean(), (title, replies) => {
        const text = smsText(notification("pagerduty", { incident: incident({ title }) }), {
          ackLink: LINK,
          replies,
        });
        expect(text.startsWith("tocsin CRIT ")).toBe(true);
        expect(text.endsWith(` (ml-training) Ack: ${LINK}${replies ? " or reply 1" : ""}`)).toBe(
          true,
        );
        expect(segments(text)).toBeLessThanOrEqual(SMS_MAX_SEGMENTS);
      }),
      { seed: 13, numRuns: 60 },
    );
  });

  it("never cuts an emoji in half (no lone surrogate, no broken ZWJ sequence)", () => {
    const family = "👩‍👩‍👧‍👦";
    const text = smsText(
      notification("pagerduty", { incident: incident({ title: family.repeat(80) }) }),
      {
        ackLink: LINK,
      },
    );

    const title = text.slice("tocsin CRIT ".length, text.indexOf("..."));
    expect(title.length % family.length).toBe(0);
    expect(title).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it("keeps the title whole when it fits", () => {
    const title = "a".repeat(150);

    const text = smsText(notification("pagerduty", { incident: incident({ title }) }));

    expect(text).toBe(`tocsin CRIT ${title} (ml-training)`);
  });

  it("without a link, says to reply 1 when replies are on, and nothing else otherwise", () => {
    const n = notification("pagerduty");

    expect(smsText(n, { replies: true })).toMatch(/ \(ml-training\) Reply 1 to ack$/);
    expect(smsText(n)).toMatch(/ \(ml-training\)$/);
  });
});

describe("maskPhone", () => {
  it.each([
    ["+447700900123", "+44••••••0123"],
    ["+12025550143", "+1••••••0143"],
    ["+35312345678", "+353••••5678"],
  ])("%s → %s", (phone, masked) => {
    expect(maskPhone(phone)).toBe(masked);
  });

  it("masks the numbers a provider's message quotes, and leaves other text", () => {
    expect(
      maskPhonesIn(
        "Invalid parameter: PhoneNumber Reason: +447700900123 is not valid to publish to",
      ),
    ).toBe("Invalid parameter: PhoneNumber Reason: +44••••••0123 is not valid to publish to");
    expect(maskPhonesIn("limit 3000 reached")).toBe("limit 3000 reached");
  });
});

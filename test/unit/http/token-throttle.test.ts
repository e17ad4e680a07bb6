import { describe, expect, it } from "vitest";
import { clientOf, TokenThrottle } from "../../../functions/adapters/http/token-throttle.js";
import { httpEvent } from "../../support/http-events.js";

const T0 = Date.parse("2026-12-01T09:00:00Z");
const at = (ms: number) => new Date(T0 + ms);

describe("TokenThrottle", () => {
  it("lets 5 wrong tokens through, then doubles the wait from 1 s up to 15 min", () => {
    const throttle = new TokenThrottle();
    const waits: number[] = [];
    let now = 0;
    for (let failure = 1; failure <= 16; failure++) {
      // Each wrong token comes the moment the last wait ends.
      now += throttle.waitSeconds("a", at(now)) * 1000;
      expect(throttle.waitSeconds("a", at(now))).toBe(0);
      throttle.failed("a", at(now));
      waits.push(throttle.waitSeconds("a", at(now)));
    }
    expect(waits).toEqual([0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900]);
  });

  it("counts each client apart, and a right token starts its client afresh", () => {
    const throttle = new TokenThrottle({ freeFailures: 0 });
    throttle.failed("a", at(0));
    expect(throttle.waitSeconds("a", at(0))).toBe(1);
    expect(throttle.waitSeconds("b", at(0))).toBe(0);
    throttle.succeeded("a");
    expect(throttle.waitSeconds("a", at(0))).toBe(0);
    throttle.failed("a", at(0));
    expect(throttle.waitSeconds("a", at(0))).toBe(1); // the first wait again
  });

  it("forgets a client a day after its last wrong token", () => {
    const throttle = new TokenThrottle({ freeFailures: 1 });
    const day = 24 * 60 * 60_000;
    for (let i = 0; i < 4; i++) throttle.failed("a", at(i * 60_000));
    expect(throttle.waitSeconds("a", at(3 * 60_000))).toBe(4);
    throttle.failed("a", at(3 * 60_000 + day)); // exactly a day later: still remembered
    expect(throttle.waitSeconds("a", at(3 * 60_000 + day))).toBe(8);
    throttle.failed("a", at(3 * 60_000 + 2 * day + 1));
    expect(throttle.waitSeconds("a", at(3 * 60_000 + 2 * day + 1))).toBe(0);
  });

  it("bounds a patient guesser to about 110 wrong tokens a day", () => {
    const throttle = new TokenThrottle();
    const day = 24 * 60 * 60_000;
    let now = 0;
    let guesses = 0;
    while (now < day) {
      now += throttle.waitSeconds("a", at(now)) * 1000;
      if (now >= day) break;
      throttle.failed("a", at(now));
      guesses++;
    }
    expect(guesses).toBeGreaterThanOrEqual(100);
    expect(guesses).toBeLessThanOrEqual(110);
  });

  it("remembers at most maxClients, forgetting the least recently failing first", () => {
    const throttle = new TokenThrottle({ freeFailures: 0, maxClients: 2 });
    throttle.failed("a", at(0));
    throttle.failed("b", at(0));
    throttle.failed("a", at(0));
    throttle.failed("c", at(0));
    expect(throttle.waitSeconds("a", at(0))).toBe(2);
    expect(throttle.waitSeconds("b", at(0))).toBe(0);
    expect(throttle.waitSeconds("c", at(0))).toBe(1);
  });
});

describe("clientOf", () => {
  it.each([
    ["203.0.113.9", "203.0.113.9"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["2001:db8:0:1:aaaa:bbbb:cccc:dddd", "2001:db8:0:1::/64"],
    ["2001:0db8:0000:0001::1", "2001:db8:0:1::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
  ])("counts %s as %s", (sourceIp, client) => {
    const event = httpEvent({ routeKey: "POST /login" });
    event.requestContext.http.sourceIp = sourceIp;
    expect(clientOf(event)).toBe(client);
  });

  it("never reads X-Forwarded-For, which the client writes", () => {
    const event = httpEvent({
      routeKey: "POST /login",
      headers: { "x-forwarded-for": "198.51.100.1" },
    });
    expect(clientOf(event)).toBe("203.0.113.9");
  });
});

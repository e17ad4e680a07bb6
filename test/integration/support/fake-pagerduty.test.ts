import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakePagerDuty } from "../../support/fake-pagerduty.js";

const EVENT = {
  routing_key: "0123456789abcdef0123456789abcdef",
  event_action: "trigger",
  dedup_key: "hang-check",
  payload: { summary: "hang check", source: "tocsin", severity: "critical" },
};

/** One event over HTTPS, trusting the fake's certificate: its status, or the error's code. */
function enqueue(fake: FakePagerDuty, timeoutMs: number): Promise<number | string> {
  const [host, port] = fake.server.split(":");
  return new Promise((resolve) => {
    const req = request(
      { host, port, method: "POST", path: "/v2/enqueue", ca: fake.ca, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.setHeader("content-type", "application/json");
    req.end(JSON.stringify(EVENT));
  });
}

describe("FakePagerDuty fault injection", () => {
  let fake: FakePagerDuty;
  beforeAll(async () => {
    fake = await FakePagerDuty.start();
  });
  afterAll(async () => {
    await fake.close();
  });

  it("hangs the next request (recorded, never answered, not an accepted event), then answers", async () => {
    fake.failNext({ hang: true });

    expect(await enqueue(fake, 300)).toBe("TIMEOUT");
    expect(await enqueue(fake, 5_000)).toBe(202);

    expect(fake.requests.map((r) => r.status)).toEqual([0, 202]);
    expect(fake.events).toHaveLength(1);
  });
});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  type GroupScript,
  groupState,
  needsUpdate,
  notificationBody,
  notifyWithRetries,
} from "../../../bench/chaos-alertmanager.js";
import { answersByWindow, storageFaultAnswers } from "../../../bench/chaos-answers.js";
import type { Attempt } from "../../../bench/chaos-http.js";
import { labelsFingerprint } from "../../../functions/core/fingerprint.js";
import { freePort } from "../../support/free-port.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A webhook receiver answering `statuses` in turn (the last one from then on). */
async function receiver(statuses: number[]): Promise<string> {
  let calls = 0;
  server = createServer((req, res) => {
    req.resume();
    const status = statuses[Math.min(calls++, statuses.length - 1)]!;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ status }));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/alertmanager`;
}

const notify = (url: string, deadlineMs: number, attempts: Attempt[]) =>
  notifyWithRetries({
    url,
    token: "t",
    body: { alerts: [] },
    deadline: Date.now() + deadlineMs,
    random: () => 0.5,
    record: (a) => attempts.push(a),
  });

describe("the chaos run's Alertmanager", () => {
  it("retries a 5xx with backoff until a 2xx, as notify/retry_stage.go does", async () => {
    const attempts: Attempt[] = [];
    const started = Date.now();
    const result = await notify(await receiver([503, 500, 202]), 10_000, attempts);
    expect(result.result).toBe("accepted");
    expect(attempts.map((a) => a.outcome.kind === "answer" && a.outcome.status)).toEqual([
      503, 500, 202,
    ]);
    // 500 ms, then 750 ms (×1.5), at the middle of their ±50 % randomization.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_200);
  });

  it("gives up at once on a 4xx (unrecoverable)", async () => {
    const attempts: Attempt[] = [];
    const result = await notify(await receiver([404, 202]), 10_000, attempts);
    expect(result.result).toBe("refused");
    expect(attempts).toHaveLength(1);
  });

  it("retries connection errors until the flush's deadline, then gives up", async () => {
    const attempts: Attempt[] = [];
    const url = `http://127.0.0.1:${await freePort()}/webhooks/alertmanager`;
    const result = await notify(url, 2_000, attempts);
    expect(result.result).toBe("gave-up");
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.every((a) => a.outcome.kind === "error")).toBe(true);
  });

  it.each([
    // notified, firing, repeat elapsed → notify? (notify/dedup_stage.go, needsUpdate)
    [null, true, false, true],
    [null, false, false, false],
    ["firing", true, false, false],
    ["firing", true, true, true],
    ["firing", false, false, true],
    ["resolved", false, true, false],
    ["resolved", true, false, true],
  ] as const)(
    "notifies as Alertmanager's dedup stage does: last %s, firing %s, repeat due %s → %s",
    (notified, firing, repeat, expected) => {
      expect(needsUpdate(notified, firing, repeat)).toBe(expected);
    },
  );

  it("sends a group's state: its current episode, firing or resolved, with Alertmanager's fingerprints", () => {
    const group: GroupScript = {
      name: "cluster-1",
      instances: ["node-1-0", "node-1-1"],
      episodes: [
        { firesAt: 0, resolvesAt: 5_000 },
        { firesAt: 8_000, resolvesAt: null },
      ],
      acknowledgeAt: null,
    };
    expect(groupState(group, -1)).toBeNull();
    expect(groupState(group, 4_999)).toEqual({ index: 0, firing: true });
    expect(groupState(group, 6_000)).toEqual({ index: 0, firing: false });
    expect(groupState(group, 9_000)).toEqual({ index: 1, firing: true });
    const start = Date.parse("2026-11-30T09:00:00.000Z");
    const resolved = notificationBody(group, { index: 0, firing: false }, start);
    expect(resolved.status).toBe("resolved");
    expect(resolved.alerts.map((a) => [a.startsAt, a.endsAt])).toEqual([
      ["2026-11-30T09:00:00.000Z", "2026-11-30T09:00:05.000Z"],
      ["2026-11-30T09:00:00.000Z", "2026-11-30T09:00:05.000Z"],
    ]);
    for (const alert of resolved.alerts)
      expect(alert.fingerprint).toBe(labelsFingerprint(alert.labels));
    expect(notificationBody(group, { index: 1, firing: true }, start).alerts[0]!.startsAt).toBe(
      "2026-11-30T09:00:08.000Z",
    );
  });
});

describe("the chaos run's answers", () => {
  const at = (sentAt: number, endedAt: number, outcome: Attempt["outcome"], timeoutMs = 10_000) =>
    ({ route: "webhook", sentAt, endedAt, outcome, timeoutMs }) as Attempt;
  const answer = (status: number, retryAfter: string | null = null) =>
    ({ kind: "answer", status, retryAfter, body: null }) as const;

  it("sorts attempts by the fault window they overlapped, else downtime, else none", () => {
    const faults = [{ kind: "throttle", from: 100, to: 200 }];
    const down = [{ kind: "down", from: 300, to: 400 }];
    const rows = answersByWindow(
      [
        at(50, 120, answer(503, "5")),
        at(150, 160, answer(500)),
        at(190, 350, { kind: "error", code: "ECONNRESET" }),
        at(310, 320, { kind: "error", code: "ECONNREFUSED" }),
        at(500, 510, answer(202)),
        at(500, 600, { kind: "timeout" }),
        at(150, 160, { kind: "timeout" }, 1_000),
        at(150, 160, answer(503)),
      ],
      faults,
      down,
    );
    expect(rows.map((r) => [r.during, r.attempts])).toEqual([
      ["no fault", 2],
      ["server down", 1],
      ["throttle", 5],
    ]);
    const throttle = rows.find((r) => r.during === "throttle")!;
    expect(throttle).toMatchObject({
      unavailableWithRetryAfter: 1,
      unavailableBare: 1,
      otherServerErrors: { 500: 1 },
      connectionErrors: { ECONNRESET: 1 },
      cutShort: 1,
      timeouts: 0,
    });
    expect(rows.find((r) => r.during === "no fault")).toMatchObject({ ok: 1, timeouts: 1 });
    expect(storageFaultAnswers(rows, ["throttle"])).toEqual({
      unavailableWithRetryAfter: 1,
      otherServerErrors: 2,
      timeouts: 0,
      cutShort: 1,
      connectionErrors: 1,
      ok: 0,
    });
  });
});

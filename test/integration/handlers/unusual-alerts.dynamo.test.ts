import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../../support/dynamo.js";
import { act, command } from "../../support/lifecycle.js";
import { delivery, prototypeNamedLabels, unusualAlerts } from "../../support/unusual-alerts.js";

/*
 * Unusual alerts on DynamoDB: labels named like Object.prototype's members through the
 * SDK's marshaller, and alerts and timelines that would not fit one 400 KB item.
 */

let dynamo: EmbeddedDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

const alerts = unusualAlerts(async () => {
  const client = clientFor(dynamo.endpoint);
  return new DynamoIncidentStore(client, await freshTable(client));
});

prototypeNamedLabels(alerts);

describe("alerts too big for one DynamoDB item", () => {
  const huge = (bytes: number) => JSON.stringify("x".repeat(bytes));

  it.each([
    ["just under the item limit", 300_000, 108_000],
    ["just over it", 300_000, 112_000],
    ["well over it", 600_000, 300_000],
  ])(
    "stores one %s with its values cut and a note, and its escalation can record deliveries",
    async (_case, description, runbook) => {
      const { post, readIncident, started, store } = alerts();
      const answer = await post(
        delivery(
          `{"alertname":"BigAlert","severity":"critical","team":"ml-training","blob":${huge(runbook)}}`,
          `{"summary":"loss is NaN","description":${huge(description)}}`,
        ),
      );
      expect(answer.status).toBe(202);
      const [opened] = answer.body.incidents;
      expect(started).toEqual([opened.id]);
      const incident = await readIncident(opened.id);
      expect(incident.annotations.summary).toBe("loss is NaN");
      expect(incident.labels.alertname).toBe("BigAlert");
      expect(incident.annotations.description).toContain(`cut by tocsin from ${description} bytes`);
      expect(incident.labels.blob).toContain(`cut by tocsin from ${runbook} bytes`);
      expect(incident.timeline[0].detail).toMatch(/labels\.blob cut from \d+ to \d+ bytes/);
      expect(incident.timeline[0].detail).toMatch(/annotations\.description cut from \d+ to/);
      // What the escalation appends later has room: a level's outcomes, many times over.
      const outcome = {
        at: "2026-11-30T09:31:00.000Z",
        type: "notified" as const,
        level: 1,
        channel: "pagerduty",
        detail: `pagerduty: ${"d".repeat(300)}`,
      };
      for (let step = 0; step < 50; step++) {
        await store.apply(opened.id, {
          guard: { exists: true },
          append: Array.from({ length: 10 }, () => outcome),
        });
      }
      expect((await store.get(opened.id))!.timeline).toHaveLength(501);
    },
  );
});

describe("a timeline that fills DynamoDB's 400 KB item", () => {
  it("keeps recording: the oldest events make room, and the first event says how many went", async () => {
    const { post, store } = alerts();
    const answer = await post(
      delivery('{"alertname":"LongEscalation","severity":"critical","team":"ml-training"}'),
    );
    const [opened] = answer.body.incidents;
    const outcome = (n: number) => ({
      at: "2026-11-30T10:00:00.000Z",
      type: "notification_failed" as const,
      level: 1,
      channel: "pagerduty",
      detail: `pagerduty: attempt ${n} ${"r".repeat(400)}`,
    });
    // ~1,500 outcomes of ~480 bytes: 700 KB, nearly twice what one item holds.
    for (let batch = 0; batch < 30; batch++) {
      const events = Array.from({ length: 50 }, (_, i) => outcome(batch * 50 + i));
      await store.apply(opened.id, { guard: { exists: true }, append: events });
    }
    // The escalation's claim and an acknowledge still go through.
    const claimedAt = "2026-11-30T10:15:00.000Z";
    const claim = await store.apply(opened.id, {
      guard: { status: ["triggered"], stepUnclaimed: 1, noSnoozeAt: claimedAt },
      claimStep: 1,
      set: { escalationStep: 1, level: 1 },
      append: [{ at: claimedAt, type: "escalated", level: 1 }],
    });
    expect(claim.applied).toBe(true);
    await act(store, opened.id, command("acknowledge", "dmitri"), "2026-11-30T10:16:00.000Z");
    const { timeline } = (await store.get(opened.id))!;
    expect(timeline[0]!.type).toBe("triggered");
    const removed = Number(/\((\d+) older timeline events removed/.exec(timeline[0]!.detail!)?.[1]);
    expect(removed).toBeGreaterThan(0);
    // Nothing lost but the oldest: the events left are the latest, in order, all of them.
    expect(timeline.length + removed).toBe(1 + 1_500 + 2);
    expect(timeline.slice(-3).map((event) => event.type)).toEqual([
      "notification_failed",
      "escalated",
      "acknowledged",
    ]);
    expect(timeline.at(-3)!.detail).toContain("attempt 1499 ");
    expect(JSON.stringify(timeline).length).toBeLessThan(400 * 1024);
  });
});

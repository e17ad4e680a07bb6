import { describe, expect, it } from "vitest";
import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { faultPlan, type StoreFaults } from "../../support/store-faults.js";
import { prototypeNamedLabels, unusualAlerts } from "../../support/unusual-alerts.js";

/* Unusual alerts through the webhook, the memory store and the read API. */

let faults: StoreFaults;
const alerts = unusualAlerts(() => {
  const plan = faultPlan();
  faults = plan.faults;
  return new MemoryIncidentStore({ beforeRequest: plan.beforeRequest });
});

prototypeNamedLabels(alerts);

describe("alerts too big to store", () => {
  it("refuses, before writing anything, a delivery with an alert whose names alone do not fit", async () => {
    const { post, started } = alerts();
    const names = Array.from({ length: 300 }, (_, i) => `"n${i}_${"n".repeat(40)}":"v"`).join(",");
    const answer = await post(
      `{"version":"4","status":"firing","alerts":[
        {"status":"firing","labels":{"alertname":"Fine"},"startsAt":"2026-11-30T09:00:00Z"},
        {"status":"firing","labels":{${names}},"startsAt":"2026-11-30T09:00:00Z"}]}`,
    );
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ error: "invalid_payload", field: "alerts.1.labels" });
    // Not one request reached the store.
    expect(faults.sent).toEqual([]);
    expect(started).toEqual([]);
  });
});

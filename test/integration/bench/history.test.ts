import { describe, expect, it } from "vitest";
import { historyMarkdown, measureHistory } from "../../../bench/history.js";

describe("bench/history (small)", () => {
  it("seeds, reads each history path with Query/Get only, and reports the requests", async () => {
    const result = await measureHistory({
      incidents: 300,
      eventsPerIncident: 10,
      days: 90,
      repeats: 1,
      now: new Date("2026-11-30T12:00:00.000Z"),
    });
    expect(result.timelineEvents).toBe(3_000);
    expect(result.seedRequests).toBe(12);
    const [list, incident, report] = result.measurements;
    expect(list).toMatchObject({ items: 50, requests: { Query: 1 } });
    expect(incident).toMatchObject({ items: 10, requests: { GetItem: 1 } });
    // A third of 90 days: 100 incidents, read by Query on the time index alone; and who could
    // not be reached (issue 13), one Query per month of the range (October and November).
    expect(report).toMatchObject({ items: 100, requests: { Query: 3 }, totalRequests: 3 });
    for (const m of result.measurements) expect(Object.keys(m.requests)).not.toContain("Scan");
    expect(historyMarkdown(result)).toContain("| report: last 30 days | 100 |");
  });
});

import { describe, expect, it } from "vitest";
import type { IncidentStore } from "../../functions/core/incident-store.js";
import { candidate } from "./incidents.js";
import { act, command, fired } from "./lifecycle.js";

/** A day of November 2026, as ISO. */
export const day = (d: number, hour = 9, minute = 0) =>
  new Date(Date.UTC(2026, 10, d, hour, minute)).toISOString();

/** Seeds incidents as ingest and escalation would leave them. */
async function seed(
  store: IncidentStore,
  ids: Record<string, string>,
  name: string,
  createdAt: string,
  fields: {
    team?: string;
    severity?: "critical" | "high" | "warning" | "info";
    level?: number;
    title?: string;
  },
  then: { ackAfter?: number; ackBy?: string; resolveAfter?: number } = {},
) {
  const c = {
    ...candidate(`fp-${name}`, createdAt, {
      team: fields.team ?? "ml-training",
      severity: fields.severity ?? "critical",
    }),
    level: fields.level ?? 0,
    escalationStep: fields.level ?? 0,
    ...(fields.title ? { title: fields.title } : {}),
  };
  await fired(store, c);
  ids[name] = c.id;
  const plus = (minutes: number) =>
    new Date(Date.parse(createdAt) + minutes * 60_000).toISOString();
  if (then.ackAfter !== undefined) {
    await act(store, c.id, command("acknowledge", then.ackBy ?? "Erin Walsh"), plus(then.ackAfter));
  }
  if (then.resolveAfter !== undefined) {
    await act(store, c.id, command("resolve", "Erin Walsh"), plus(then.resolveAfter));
  }
}

/**
 * The incidents the report tests read, by name: one before the default 30 days ("old"), then
 * acknowledged, resolved, escalated ones over three teams and severities, and one whose title
 * tries a spreadsheet formula ("evil").
 */
export async function seedReportIncidents(store: IncidentStore): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  await seed(store, ids, "old", "2026-10-15T09:00:00.000Z", { team: "platform" });
  await seed(
    store,
    ids,
    "a",
    day(10),
    { level: 2 },
    { ackAfter: 20, ackBy: "Dmitri Volkov", resolveAfter: 60 },
  );
  await seed(store, ids, "b", day(11), { severity: "high", level: 1 }, { ackAfter: 5 });
  await seed(
    store,
    ids,
    "c",
    day(11, 12),
    { team: "platform", severity: "warning" },
    { resolveAfter: 30 },
  );
  await seed(store, ids, "d", day(12, 1), { team: "platform", level: 4 });
  await seed(store, ids, "evil", day(20), {
    team: "platform",
    severity: "info",
    title: '=HYPERLINK("http://evil.example","click"), "quoted"\nsecond line',
  });
  return ids;
}

/** The store's report listing over the seeded incidents: newest first, the report's fields only. */
export function listsForReport(
  seeded: () => { store: IncidentStore; ids: Record<string, string> },
) {
  describe("IncidentStore.listForReport", () => {
    it("gives the newest incidents of the range first, and says when it stopped at its limit", async () => {
      const { store, ids } = seeded();
      const range = { since: day(10), until: day(20) };
      const all = await store.listForReport({ ...range, maxIncidents: 100 });
      expect(all.truncated).toBe(false);
      expect(all.incidents.map((i) => i.id)).toEqual(
        ["evil", "d", "c", "b", "a"].map((n) => ids[n]),
      );
      expect(Object.keys(all.incidents[0]!).sort()).toEqual([
        "acknowledgedAt",
        "acknowledgedBy",
        "createdAt",
        "escalationStep",
        "id",
        "level",
        "resolvedAt",
        "resolvedBy",
        "severity",
        "status",
        "team",
      ]);
      const some = await store.listForReport({ ...range, maxIncidents: 2 });
      expect(some).toMatchObject({ truncated: true });
      expect(some.incidents.map((i) => i.id)).toEqual([ids.evil, ids.d]);
    });
  });
}

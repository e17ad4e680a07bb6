import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError, StoreUnavailableError } from "../../../functions/core/errors.js";
import type { IncidentWithTimeline, TimelineEvent } from "../../../functions/core/incident.js";
import type { IncidentStore } from "../../../functions/core/incident-store.js";
import { decide } from "../../../functions/core/lifecycle.js";
import type { OwedDelivery } from "../../../functions/core/notification.js";
import { at, candidate, resolveAt } from "../incidents.js";
import { changeOf, command, contextAt, fired, snooze, updateOf } from "../lifecycle.js";
import type { StoreFaults } from "../store-faults.js";

export interface StoreUnderTest {
  store: IncidentStore;
  /** Faults injected into its storage's requests, by domain name. */
  faults: StoreFaults;
}

/**
 * What every IncidentStore must do. Run it against each implementation with a factory
 * that gives an empty store per test.
 */
export function incidentStoreContract(name: string, make: () => Promise<StoreUnderTest>) {
  describe(`IncidentStore contract: ${name}`, () => {
    it("opens an incident for a new fingerprint, with a triggered event", async () => {
      const { store } = await make();
      const fresh = candidate("fp-new", at(0));
      const outcome = await fired(store, fresh);
      expect(outcome).toEqual({ incident: { id: fresh.id, status: "triggered" }, created: true });
      const stored = await store.get(fresh.id);
      expect(stored).toMatchObject({
        id: fresh.id,
        status: "triggered",
        occurrences: 1,
        createdAt: at(0),
        lastSeenAt: at(0),
      });
      expect(stored!.timeline.map((event) => event.type)).toEqual(["triggered"]);
    });

    it("counts a duplicate on the open incident: occurrences and lastSeenAt, nothing else", async () => {
      const { store } = await make();
      const first = candidate("fp-dup", at(0));
      await fired(store, first);
      const second = await fired(store, candidate("fp-dup", at(3)));
      expect(second).toEqual({ incident: { id: first.id, status: "triggered" }, created: false });
      const stored = await store.get(first.id);
      expect(stored).toMatchObject({ occurrences: 2, createdAt: at(0), lastSeenAt: at(3) });
      expect(stored!.timeline).toHaveLength(1);
      const page = await store.list({ limit: 10 });
      expect(page.incidents.map((i) => [i.id, i.occurrences])).toEqual([[first.id, 2]]);
    });

    it("gives an open incident's live counters, truncatedAlerts included, in lists and reads", async () => {
      const { store } = await make();
      const first = { ...candidate("fp-truncated", at(0)), truncatedAlerts: 5 };
      await fired(store, first);
      await fired(store, { ...candidate("fp-truncated", at(2)), truncatedAlerts: 2 });
      const live = { occurrences: 2, lastSeenAt: at(2), truncatedAlerts: 2 };
      expect(await store.get(first.id)).toMatchObject(live);
      expect((await store.list({ limit: 10 })).incidents).toEqual([
        expect.objectContaining({ id: first.id, ...live }),
      ]);
      // A delivery that says nothing of its group keeps what the last one said.
      await fired(store, candidate("fp-truncated", at(3)));
      expect((await store.list({ limit: 10 })).incidents[0]).toMatchObject({ truncatedAlerts: 2 });
    });

    it("keeps one open incident when 16 deliveries of the same alert arrive at once", async () => {
      const { store } = await make();
      const outcomes = await Promise.all(
        Array.from({ length: 16 }, (_, i) => fired(store, candidate("fp-storm", at(1, i)))),
      );
      const ids = new Set(outcomes.map((o) => o.incident.id));
      expect(ids.size).toBe(1);
      expect(outcomes.filter((o) => o.created)).toHaveLength(1);
      const page = await store.list({ limit: 50 });
      expect(page.incidents).toHaveLength(1);
      expect(page.incidents[0]!.occurrences).toBe(16);
    });

    it("leaves an opening to confirm until it is confirmed: every firing before is told so", async () => {
      // Prepare: the first delivery opens it and dies before confirming (its follow-up failed).
      const { store, faults } = await make();
      const fresh = candidate("fp-confirm", at(0));
      expect(await store.fire(fresh)).toEqual({
        incident: { id: fresh.id, status: "triggered" },
        created: true,
        toConfirm: true,
      });
      // Act and Assess: the next delivery finds it unconfirmed, the same incident (not created).
      expect(await store.fire(candidate("fp-confirm", at(1)))).toEqual({
        incident: { id: fresh.id, status: "triggered" },
        created: false,
        toConfirm: true,
      });
      await store.confirmOpening("fp-confirm", fresh.id);
      // Confirmed: a duplicate is one write, and nobody is told to follow it up again.
      faults.sent.length = 0;
      expect(await store.fire(candidate("fp-confirm", at(2)))).toEqual({
        incident: { id: fresh.id, status: "triggered" },
        created: false,
        toConfirm: false,
      });
      expect(faults.sent).toEqual(["episode"]);
      expect((await store.get(fresh.id))!.occurrences).toBe(3);
      // A confirm for an incident that is no longer the open one changes nothing.
      await store.resolveFingerprint(candidate("fp-confirm", at(3)), resolveAt(at(3)));
      await store.confirmOpening("fp-confirm", fresh.id);
      expect((await store.fire(candidate("fp-confirm", at(4), {}, at(4)))).toConfirm).toBe(true);
    });

    it("resolves the open incident, carrying its counters, and records the event", async () => {
      const { store } = await make();
      const fresh = candidate("fp-res", at(0));
      await fired(store, fresh);
      await fired(store, candidate("fp-res", at(2)));
      const resolved = await store.resolveFingerprint(candidate("fp-res", at(5)), resolveAt(at(5)));
      expect(resolved).toEqual({
        id: fresh.id,
        status: "resolved",
        channels: ["slack-incidents"],
        escalationPolicy: "standard",
      });
      const stored = await store.get(fresh.id);
      expect(stored).toMatchObject({
        status: "resolved",
        resolvedAt: at(5),
        resolvedBy: "alertmanager",
        occurrences: 2,
        lastSeenAt: at(2),
      });
      expect(stored!.timeline.map((event) => [event.type, event.at])).toEqual([
        ["triggered", at(0)],
        ["resolved", at(5)],
      ]);
    });

    it("treats a repeated resolve as done: same answer, no second event", async () => {
      const { store } = await make();
      const fresh = candidate("fp-res2", at(0));
      await fired(store, fresh);
      await store.resolveFingerprint(candidate("fp-res2", at(5)), resolveAt(at(5)));
      expect(
        await store.resolveFingerprint(candidate("fp-res2", at(6)), resolveAt(at(6))),
      ).toMatchObject({ id: fresh.id, status: "resolved" });
      expect((await store.get(fresh.id))!.timeline).toHaveLength(2);
    });

    it("ignores a resolve for a fingerprint it never saw, writing nothing", async () => {
      const { store } = await make();
      expect(
        await store.resolveFingerprint(candidate("fp-ghost", at(0)), resolveAt(at(0))),
      ).toBeNull();
      expect((await store.list({ limit: 10 })).incidents).toEqual([]);
    });

    it("opens a new incident when the alert fires again after a resolve", async () => {
      const { store } = await make();
      const first = candidate("fp-again", at(0));
      await fired(store, first);
      await store.resolveFingerprint(candidate("fp-again", at(5)), resolveAt(at(5)));
      const second = candidate("fp-again", at(9));
      const outcome = await fired(store, second);
      expect(outcome).toEqual({ incident: { id: second.id, status: "triggered" }, created: true });
      expect((await store.get(first.id))!.status).toBe("resolved");
      expect(await store.get(second.id)).toMatchObject({
        status: "triggered",
        occurrences: 1,
        createdAt: at(9),
      });
    });

    it("does not reopen for a late firing delivery of an episode already resolved", async () => {
      const { store } = await make();
      const episode = candidate("fp-late", at(1), {}, at(0));
      await fired(store, episode);
      await store.resolveFingerprint(candidate("fp-late", at(5), {}, at(0)), resolveAt(at(5)));
      const late = await fired(store, candidate("fp-late", at(6), {}, at(0)));
      expect(late).toEqual({ incident: { id: episode.id, status: "resolved" }, created: false });
      expect((await store.list({ limit: 10 })).incidents.map((i) => [i.id, i.status])).toEqual([
        [episode.id, "resolved"],
      ]);
      // A new episode (a later startsAt) does open a new incident.
      expect((await fired(store, candidate("fp-late", at(7), {}, at(7)))).created).toBe(true);
    });

    it("does not let a late resolve of an earlier episode close the one open now", async () => {
      const { store } = await make();
      await fired(store, candidate("fp-two", at(1), {}, at(0)));
      await store.resolveFingerprint(candidate("fp-two", at(2), {}, at(0)), resolveAt(at(2)));
      const second = candidate("fp-two", at(8), {}, at(8));
      await fired(store, second);
      await store.resolveFingerprint(candidate("fp-two", at(9), {}, at(0)), resolveAt(at(9)));
      expect((await store.get(second.id))!.status).toBe("triggered");
    });

    it("returns null for an unknown id", async () => {
      const { store } = await make();
      expect(await store.get("no-such-incident")).toBeNull();
    });

    it("lists newest first, filtered by status, severity, team and time, paging with a cursor", async () => {
      const { store } = await make();
      const made: Array<{
        id: string;
        minute: number;
        team: string;
        severity: "critical" | "warning";
      }> = [];
      for (let minute = 0; minute < 12; minute++) {
        const team = minute % 3 === 0 ? "ml-inference" : "ml-training";
        const severity = minute % 2 === 0 ? "critical" : "warning";
        const c = candidate(`fp-list-${minute}`, at(minute), { team, severity });
        await fired(store, c);
        made.push({ id: c.id, minute, team, severity });
      }
      await store.resolveFingerprint(candidate("fp-list-4", at(30)), resolveAt(at(30)));
      const newestFirst = [...made].reverse();
      const ids = async (query: Parameters<IncidentStore["list"]>[0]) =>
        (await store.list(query)).incidents.map((i) => i.id);

      expect(await ids({ limit: 100 })).toEqual(newestFirst.map((m) => m.id));
      expect(await ids({ limit: 100, status: "resolved" })).toEqual([made[4]!.id]);
      expect(await ids({ limit: 100, status: "triggered", team: "ml-inference" })).toEqual(
        newestFirst.filter((m) => m.team === "ml-inference").map((m) => m.id),
      );
      expect(await ids({ limit: 100, severity: "warning", team: "ml-training" })).toEqual(
        newestFirst
          .filter((m) => m.severity === "warning" && m.team === "ml-training")
          .map((m) => m.id),
      );
      expect(await ids({ limit: 100, since: at(3), until: at(5) })).toEqual([
        made[5]!.id,
        made[4]!.id,
        made[3]!.id,
      ]);

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ limit: 5, severity: "critical", cursor });
        expect(page.incidents.length).toBeLessThanOrEqual(5);
        seen.push(...page.incidents.map((i) => i.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(newestFirst.filter((m) => m.severity === "critical").map((m) => m.id));
    });

    it("refuses a cursor it did not make", async () => {
      const { store } = await make();
      await expect(store.list({ limit: 5, cursor: "not-a-cursor" })).rejects.toBeInstanceOf(
        InvalidInputError,
      );
    });

    it("agrees with a model over random sequences of fires and resolves", async () => {
      const step = fc.record({
        fingerprint: fc.constantFrom("a", "b", "c"),
        resolve: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
          const { store } = await make();
          const open = new Map<string, string>();
          const incidents = new Map<string, { status: string; occurrences: number }>();
          for (const [i, s] of steps.entries()) {
            const now = at(0, i);
            if (s.resolve) {
              const result = await store.resolveFingerprint(
                candidate(s.fingerprint, now),
                resolveAt(now),
              );
              const expected = open.get(s.fingerprint);
              if (expected) {
                expect(result).toMatchObject({ id: expected, status: "resolved" });
                incidents.get(expected)!.status = "resolved";
                open.delete(s.fingerprint);
              }
            } else {
              const c = candidate(s.fingerprint, now);
              const { incident, created } = await fired(store, c);
              const expected = open.get(s.fingerprint);
              expect(created).toBe(expected === undefined);
              if (expected) {
                expect(incident.id).toBe(expected);
                incidents.get(expected)!.occurrences++;
              } else {
                open.set(s.fingerprint, c.id);
                incidents.set(c.id, { status: "triggered", occurrences: 1 });
              }
            }
          }
          const listed = (await store.list({ limit: 500 })).incidents;
          expect(
            new Map(listed.map((i) => [i.id, { status: i.status, occurrences: i.occurrences }])),
          ).toEqual(incidents);
        }),
        { numRuns: 40 },
      );
    });

    describe("acknowledge, resolve and snooze", () => {
      /** The change a command of Alice's asks of `incident` at `minute`, as the lifecycle decides it. */
      const by = (
        incident: IncidentWithTimeline,
        type: "acknowledge" | "resolve",
        minute: number,
        options?: { mirrored?: boolean },
      ) => changeOf(incident, command(type, "Alice Martin (alice)"), at(minute), options);
      const NOT_APPLIED = { applied: false, incident: null };

      it("acknowledges once; a second acknowledge is refused by the guard and changes nothing", async () => {
        const { store } = await make();
        const fresh = candidate("fp-ack", at(0));
        await fired(store, fresh);
        const stale = (await store.get(fresh.id))!;
        const acked = await store.apply(fresh.id, by(stale, "acknowledge", 2), stale);
        expect(acked).toMatchObject({
          applied: true,
          incident: {
            status: "acknowledged",
            acknowledgedAt: at(2),
            acknowledgedBy: "Alice Martin (alice)",
          },
        });
        // From the stale copy: the condition is the store's, not the caller's.
        expect(await store.apply(fresh.id, by(stale, "acknowledge", 3), stale)).toEqual(
          NOT_APPLIED,
        );
        expect((await store.get(fresh.id))!.timeline.map((e) => e.type)).toEqual([
          "triggered",
          "acknowledged",
        ]);
        // Duplicates now answer with the acknowledged status.
        expect((await fired(store, candidate("fp-ack", at(4), {}, at(0)))).incident.status).toBe(
          "acknowledged",
        );
      });

      it("never lets an acknowledge undo a resolve", async () => {
        const { store } = await make();
        const fresh = candidate("fp-undo", at(0));
        await fired(store, fresh);
        const stale = (await store.get(fresh.id))!;
        expect((await store.apply(fresh.id, by(stale, "resolve", 1), stale)).applied).toBe(true);
        expect(await store.apply(fresh.id, by(stale, "acknowledge", 2), stale)).toEqual(
          NOT_APPLIED,
        );
        expect((await store.get(fresh.id))!.status).toBe("resolved");
      });

      it("a resolve by hand frees the fingerprint: the same episode stays closed, a new one opens an incident", async () => {
        const { store } = await make();
        const fresh = candidate("fp-manual", at(1), {}, at(0));
        await fired(store, fresh);
        await fired(store, candidate("fp-manual", at(2), {}, at(0)));
        const current = (await store.get(fresh.id))!;
        const resolved = await store.apply(fresh.id, by(current, "resolve", 3), current);
        expect(resolved.incident).toMatchObject({ status: "resolved", occurrences: 2 });
        expect(await fired(store, candidate("fp-manual", at(4), {}, at(0)))).toEqual({
          incident: { id: fresh.id, status: "resolved" },
          created: false,
        });
        expect((await fired(store, candidate("fp-manual", at(9), {}, at(9)))).created).toBe(true);
      });

      it("claims each escalation step once, and none once acknowledged or while snoozed", async () => {
        const { store } = await make();
        const fresh = candidate("fp-claim", at(0));
        await fired(store, fresh);
        // The claims a Task's level_due asks for (a resume: once the snooze is over).
        const claim = async (step: number, minute: number, resume = false) =>
          (
            await store.apply(fresh.id, {
              guard: resume
                ? { status: ["triggered"], snoozeOverAt: at(minute) }
                : { status: ["triggered"], stepUnclaimed: step, noSnoozeAt: at(minute) },
              claimStep: step,
              set: {
                escalationStep: step,
                level: step,
                ...(resume ? { snoozedUntil: null, escalationBaseAt: at(minute) } : {}),
              },
            })
          ).applied;
        expect(await claim(1, 0)).toBe(true);
        expect(await claim(1, 0)).toBe(false);
        const snoozed = await store.apply(
          fresh.id,
          changeOf((await store.get(fresh.id))!, snooze("alice", 600), at(1)),
        );
        expect(snoozed.incident!.snoozedUntil).toBe(at(11));
        expect(await claim(2, 5)).toBe(false);
        expect(await claim(1, 5, true)).toBe(false);
        expect(await claim(1, 11, true)).toBe(true);
        expect(await store.get(fresh.id)).toMatchObject({
          snoozedUntil: null,
          escalationBaseAt: at(11),
          escalationStep: 1,
        });
        expect(await claim(2, 12)).toBe(true);
        const current = (await store.get(fresh.id))!;
        await store.apply(fresh.id, by(current, "acknowledge", 13), current);
        expect(await claim(3, 14)).toBe(false);
        expect((await store.get(fresh.id))!.level).toBe(2);
      });

      it("snoozes once at a time: a snooze while one runs is refused by the guard and changes nothing", async () => {
        const { store } = await make();
        const fresh = candidate("fp-snooze-twice", at(0));
        await fired(store, fresh);
        const snoozeOf = (incident: IncidentWithTimeline, minute: number, actor: string) =>
          changeOf(incident, snooze(actor, 600), at(minute));
        const stale = (await store.get(fresh.id))!;
        const snoozed = (await store.apply(fresh.id, snoozeOf(stale, 1, "alice"))).incident!;
        // From the stale copy too: the condition is the store's, not the caller's.
        expect(await store.apply(fresh.id, snoozeOf(stale, 2, "bob"))).toEqual(NOT_APPLIED);
        expect(await store.get(fresh.id)).toEqual(snoozed);
        // Over at minute 11: another snooze is a new one.
        const again = (await store.apply(fresh.id, snoozeOf(snoozed, 11, "bob"))).incident!;
        expect(again.snoozedUntil).toBe(at(21));
        // An acknowledge is not held up by a snooze.
        const acked = await store.apply(fresh.id, by(again, "acknowledge", 12), again);
        expect(acked.incident!.status).toBe("acknowledged");
      });

      it("keeps a claimed step's owed deliveries until their outcomes are recorded, and a retry's for later", async () => {
        const { store } = await make();
        const fresh = candidate("fp-owed", at(0));
        await fired(store, fresh);
        const owed = (key: string, channelId: string) => ({
          key,
          step: 2,
          channelId,
          kind: "escalate" as const,
          level: 2,
          recipients: [{ userId: "erin", name: "Erin Walsh" }],
          claimedAt: at(15),
          attempts: 0,
        });
        const both = [owed("s2d0", "pagerduty"), owed("s2d1", "slack-incidents")];
        const claimed = await store.apply(fresh.id, {
          guard: { status: ["triggered"], stepUnclaimed: 2, noSnoozeAt: at(15) },
          claimStep: 2,
          set: { escalationStep: 2, level: 2 },
          owe: both,
        });
        expect(claimed.applied).toBe(true);
        expect((await store.get(fresh.id))!.owedDeliveries!.map((o) => o.key)).toEqual([
          "s2d0",
          "s2d1",
        ]);
        // The list pages never carry them.
        expect((await store.list({ limit: 10 })).incidents[0]).not.toHaveProperty("owedDeliveries");

        // The record a Task's deliveries_recorded asks for.
        const recorded = async (
          events: TimelineEvent[],
          settled: OwedDelivery[],
          pending: OwedDelivery[] = [],
        ) => {
          const incident = (await store.get(fresh.id))!;
          const event = { events, owed: settled, pending, delivered: [] };
          const decision = decide(
            incident,
            { type: "deliveries_recorded", ...event },
            contextAt(at(16)),
          );
          return (await store.apply(fresh.id, updateOf(decision))).incident!;
        };
        const notified = { at: at(16), type: "notified" as const, level: 2, channel: "pagerduty" };
        const later = { ...owed("s2d1", "slack-incidents"), attempts: 4, nextAttemptAt: at(17) };
        const after = await recorded([notified], both, [later]);
        expect(after.owedDeliveries).toEqual([later]);
        expect(after.timeline.at(-1)).toEqual(notified);

        // Acknowledged meanwhile: the outcome is recorded, the owed delivery kept (it is owed the state).
        const current = (await store.get(fresh.id))!;
        await store.apply(
          fresh.id,
          changeOf(current, command("acknowledge", "erin"), at(18)),
          current,
        );
        const failed = { ...notified, at: at(17), type: "notification_failed" as const };
        const kept = await recorded([failed], [later]);
        expect(kept.status).toBe("acknowledged");
        expect(kept.owedDeliveries).toEqual([later]);
        // In the order written, each event at its own time.
        expect(kept.timeline.map((e) => [e.type, e.at])).toEqual([
          ["triggered", at(0)],
          ["notified", at(16)],
          ["acknowledged", at(18)],
          ["notification_failed", at(17)],
        ]);
        // Its state told (state_told, while acknowledged): settled, an unknown key ignored.
        const told = decide(
          kept,
          { type: "state_told", events: [], settle: ["s2d1", "s9d9"], settlesState: false },
          contextAt(at(19)),
        );
        const settled = await store.apply(fresh.id, updateOf(told));
        expect(settled.incident!.owedDeliveries).toBeUndefined();
        expect(
          await store.apply("no-such-incident", { guard: { exists: true }, append: [notified] }),
        ).toEqual(NOT_APPLIED);
      });

      it("records an acknowledge or resolve a mirror tells as owed, in the same write, until the mirror settles it", async () => {
        const { store } = await make();
        const told = candidate("fp-owed-state", at(0));
        // An incident that tells nobody (info): nothing is ever owed of it.
        const quiet = candidate("fp-no-mirror", at(0), { channels: [], escalation: null });
        await fired(store, told);
        await fired(store, quiet);
        expect(await store.owedStates()).toEqual([]);

        const mirrored = { mirrored: true };
        const first = (await store.get(told.id))!;
        const acked = (await store.apply(told.id, by(first, "acknowledge", 1, mirrored), first))
          .incident!;
        expect(acked.owedState).toBe("acknowledged");
        const unheard = (await store.get(quiet.id))!;
        await store.apply(quiet.id, by(unheard, "acknowledge", 1, mirrored), unheard);
        expect((await store.get(quiet.id))!.owedState).toBeUndefined();
        expect(await store.owedStates()).toEqual([{ id: told.id, state: "acknowledged" }]);
        // Never on list pages: a mirror's bookkeeping, not the incident's.
        const listed = (await store.list({ limit: 10 })).incidents;
        for (const incident of listed) expect(incident).not.toHaveProperty("owedState");

        // Resolved before the acknowledge's mirror wrote: settling the acknowledge changes
        // nothing owed (the resolve is owed now), and the outcome is recorded all the same.
        await store.apply(told.id, by(acked, "resolve", 2, mirrored), acked);
        const event = { at: at(3), type: "notified" as const, channel: "pagerduty" };
        const stateTold = (incident: IncidentWithTimeline, events: TimelineEvent[]) =>
          updateOf(
            decide(
              incident,
              { type: "state_told", events, settle: [], settlesState: true },
              contextAt(at(3)),
            ),
          );
        const late = (await store.apply(told.id, stateTold(acked, [event]))).incident!;
        expect(late.owedState).toBe("resolved");
        expect(late.timeline.at(-1)).toEqual(event);
        expect(await store.owedStates()).toEqual([{ id: told.id, state: "resolved" }]);

        const settled = (await store.apply(told.id, stateTold(late, []))).incident!;
        expect(settled.owedState).toBeUndefined();
        expect(await store.owedStates()).toEqual([]);
      });

      it("records a resolve of the sender's as owed when a mirror tells it", async () => {
        const { store } = await make();
        const fresh = candidate("fp-owed-resolve", at(0));
        await fired(store, fresh);
        const resolved = await store.resolveFingerprint(candidate("fp-owed-resolve", at(5)), {
          ...resolveAt(at(5)),
          owedState: "resolved",
        });
        expect(resolved).toMatchObject({ id: fresh.id, status: "resolved" });
        expect((await store.get(fresh.id))!.owedState).toBe("resolved");
        expect(await store.owedStates()).toEqual([{ id: fresh.id, state: "resolved" }]);
      });
    });

    describe("people (issue 13): PagerDuty incidents and the unreachable", () => {
      it("keeps a channel's PagerDuty incident once set, whatever the state, beside those of other channels", async () => {
        const { store } = await make();
        const incident = candidate("fp-pd-ref", at(0));
        await fired(store, incident);
        expect((await store.get(incident.id))!.pagerDutyIncidents).toBeUndefined();
        const refs = (...list: Array<[string, string]>) =>
          list.map(([channelId, id]) => ({ channelId, id }));
        await store.apply(incident.id, {
          guard: { status: ["triggered"] },
          pagerDutyIncidents: refs(["pd-people", "Q1ABC23"]),
        });
        // A second record (a retried Task) does not replace it; another channel's is added.
        await store.apply(incident.id, {
          guard: { exists: true },
          pagerDutyIncidents: refs(["pd-people", "QOTHER9"], ["pd-managers", "Q2DEF45"]),
        });
        // Acknowledged meanwhile: the record's otherwise keeps it all the same.
        await store.apply(
          incident.id,
          {
            guard: { status: ["triggered"] },
            set: { status: "acknowledged", acknowledgedAt: at(2), acknowledgedBy: "Ann" },
          },
          incident,
        );
        await store.apply(incident.id, {
          guard: { status: ["triggered"] },
          otherwise: { guard: { exists: true }, pagerDutyIncidents: refs(["pd-late", "Q3GHI67"]) },
        });
        expect((await store.get(incident.id))!.pagerDutyIncidents).toEqual({
          "pd-people": "Q1ABC23",
          "pd-managers": "Q2DEF45",
          "pd-late": "Q3GHI67",
        });
        // Lists do not need them; they never name a channel that has none.
        const listed = (await store.list({ limit: 10 })).incidents[0]!;
        expect(listed.id).toBe(incident.id);
      });

      it("records the unreachable and lists them newest first within a range across months, each once", async () => {
        const { store } = await make();
        const entry = (at: string, incidentId: string, level: number, userId: string) => ({
          at,
          incidentId,
          team: "platform",
          level,
          userId,
          reason: "no usable contact method: rules name sms, voice; no phone",
        });
        const entries = [
          entry("2026-10-31T23:59:00.000Z", "inc-a", 3, "grace"),
          entry("2026-11-01T00:01:00.000Z", "inc-b", 2, "bob"),
          entry("2026-11-01T00:01:00.000Z", "inc-b", 2, "ann"),
          entry("2026-11-15T12:00:00.000Z", "inc-c", 1, "ann"),
          entry("2026-12-01T08:00:00.000Z", "inc-d", 4, "vp"),
        ];
        await store.recordUnreachable(entries);
        // Written again (a retried Task): still one each.
        await store.recordUnreachable([entries[1]!]);
        const listed = await store.listUnreachable({
          since: "2026-10-01T00:00:00.000Z",
          until: "2026-11-30T23:59:59.999Z",
          limit: 500,
        });
        expect(
          listed.map((e) => `${e.at.slice(0, 10)} ${e.incidentId} ${e.level} ${e.userId}`),
        ).toEqual([
          "2026-11-15 inc-c 1 ann",
          "2026-11-01 inc-b 2 bob",
          "2026-11-01 inc-b 2 ann",
          "2026-10-31 inc-a 3 grace",
        ]);
        expect(listed[0]).toEqual(entries[3]);
        const first = await store.listUnreachable({
          since: "2026-10-01T00:00:00.000Z",
          until: "2026-12-31T00:00:00.000Z",
          limit: 2,
        });
        expect(first.map((e) => e.incidentId)).toEqual(["inc-d", "inc-c"]);
        expect(
          await store.listUnreachable({
            since: "2027-01-01T00:00:00.000Z",
            until: "2027-02-01T00:00:00.000Z",
            limit: 10,
          }),
        ).toEqual([]);
      });
    });

    describe("when the storage fails half-way", () => {
      it("finishes an interrupted creation on the sender's retry: one incident, not zero, not two", async () => {
        const { store, faults } = await make();
        faults.failNext("create");
        await expect(fired(store, candidate("fp-half", at(0)))).rejects.toBeInstanceOf(
          StoreUnavailableError,
        );
        const retry = await fired(store, candidate("fp-half", at(1)));
        expect(retry.created).toBe(true);
        const page = await store.list({ limit: 10 });
        expect(page.incidents.map((i) => i.id)).toEqual([retry.incident.id]);
        expect(page.incidents[0]).toMatchObject({
          status: "triggered",
          createdAt: at(0),
          occurrences: 2,
        });
        // Committed now: the next duplicate is a single write.
        faults.sent.length = 0;
        await fired(store, candidate("fp-half", at(2)));
        expect(faults.sent).toEqual(["episode"]);
      });

      it("finishes an interrupted resolve on the sender's retry", async () => {
        const { store, faults } = await make();
        const fresh = candidate("fp-half-res", at(0));
        await fired(store, fresh);
        // The fingerprint write goes through, the incident write fails.
        faults.failNext("update");
        await expect(
          store.resolveFingerprint(candidate("fp-half-res", at(5)), resolveAt(at(5))),
        ).rejects.toBeInstanceOf(StoreUnavailableError);
        expect((await store.get(fresh.id))!.status).toBe("triggered");
        expect(
          await store.resolveFingerprint(candidate("fp-half-res", at(6)), resolveAt(at(6))),
        ).toMatchObject({
          id: fresh.id,
          status: "resolved",
        });
        const stored = await store.get(fresh.id);
        expect(stored!.timeline.map((e) => e.type)).toEqual(["triggered", "resolved"]);
        expect(stored!.resolvedAt).toBe(at(6));
      });

      it("names the last episode's incident to the firing that opens the next, until it is confirmed", async () => {
        const { store, faults } = await make();
        const fresh = candidate("fp-next", at(0));
        expect((await store.fire(fresh)).previous).toBeUndefined();
        await store.confirmOpening("fp-next", fresh.id);
        // A resolve torn between its writes: the episode detached, the incident still triggered.
        faults.failNext("update");
        await expect(
          store.resolveFingerprint(candidate("fp-next", at(5)), resolveAt(at(5))),
        ).rejects.toBeInstanceOf(StoreUnavailableError);
        const next = { ...candidate("fp-next", at(9)), startedAt: at(9) };
        expect(await store.fire(next)).toEqual({
          incident: { id: next.id, status: "triggered" },
          created: true,
          toConfirm: true,
          previous: fresh.id,
        });
        // Every firing before the confirmation is told so (the one that finishes a failed call).
        expect((await store.fire({ ...next, id: "other" })).previous).toBe(fresh.id);
        await store.confirmOpening("fp-next", next.id);
        expect((await store.fire({ ...next, id: "other" })).previous).toBeUndefined();
        expect((await store.get(fresh.id))!.status).toBe("triggered");
      });

      it("resolves an incident whose creation was interrupted, when the resolve comes first", async () => {
        const { store, faults } = await make();
        faults.failNext("create");
        await expect(fired(store, candidate("fp-half-2", at(0)))).rejects.toBeInstanceOf(
          StoreUnavailableError,
        );
        const resolved = await store.resolveFingerprint(
          candidate("fp-half-2", at(4)),
          resolveAt(at(4)),
        );
        expect(resolved?.status).toBe("resolved");
        const stored = await store.get(resolved!.id);
        expect(stored).toMatchObject({ status: "resolved", createdAt: at(0), resolvedAt: at(4) });
        expect(stored!.timeline.map((e) => e.type)).toEqual(["triggered", "resolved"]);
        // And the alert firing again opens a new incident.
        expect((await fired(store, candidate("fp-half-2", at(8)))).created).toBe(true);
      });

      it("says the storage is unavailable when the first write fails, having written nothing", async () => {
        const { store, faults } = await make();
        faults.failNext("episode");
        await expect(fired(store, candidate("fp-down", at(0)))).rejects.toBeInstanceOf(
          StoreUnavailableError,
        );
        expect((await store.list({ limit: 10 })).incidents).toEqual([]);
      });
    });
  });
}

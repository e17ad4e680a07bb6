import { describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../../../functions/core/errors.js";
import type { ReplayGuard } from "../../../functions/core/replay-guard.js";
import type { StoreFaults } from "../store-faults.js";

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 30, 9, 30, seconds)).toISOString();
const window = (now: number) => ({ now: at(now), until: at(300) });

export interface ReplayGuardsUnderTest {
  /** Guards on one storage, as many Lambda instances have. */
  guards(count: number): ReplayGuard[];
  /** Faults of the first guard's requests (remembering is a `create`). */
  faults: StoreFaults;
}

/** What every ReplayGuard must do; `make` gives guards on an empty storage per test. */
export function replayGuardContract(name: string, make: () => Promise<ReplayGuardsUnderTest>) {
  describe(`ReplayGuard contract: ${name}`, () => {
    it("answers true once per key within its window, whichever instance asks", async () => {
      const [one, two] = (await make()).guards(2) as [ReplayGuard, ReplayGuard];

      expect(await one.firstSeen("v0=aa", window(0))).toBe(true);
      expect(await two.firstSeen("v0=aa", window(10))).toBe(false);
      expect(await one.firstSeen("v0=aa", window(299))).toBe(false);
      expect(await two.firstSeen("v0=bb", window(10))).toBe(true);
    });

    it("gives one true to many concurrent calls with one key", async () => {
      const guards = (await make()).guards(12);

      const answers = await Promise.all(guards.map((g) => g.firstSeen("v0=cc", window(0))));

      expect(answers.filter(Boolean)).toHaveLength(1);
    });

    it("lets a key be used again once its window is over, before TTL has deleted it", async () => {
      const [guard] = (await make()).guards(1) as [ReplayGuard];
      await guard.firstSeen("v0=dd", window(0));

      expect(await guard.firstSeen("v0=dd", { now: at(301), until: at(601) })).toBe(true);
      expect(await guard.firstSeen("v0=dd", { now: at(302), until: at(602) })).toBe(false);
    });

    it("says whether a key was seen in a window not over, remembering nothing itself", async () => {
      const [guard] = (await make()).guards(1) as [ReplayGuard];

      expect(await guard.seen("v0=gg", at(0))).toBe(false);
      expect(await guard.firstSeen("v0=gg", window(0))).toBe(true);
      expect(await guard.seen("v0=gg", at(300))).toBe(true);
      expect(await guard.seen("v0=gg", at(301))).toBe(false);
      expect(await guard.seen("v0=hh", at(10))).toBe(false);
      expect(await guard.firstSeen("v0=hh", window(10))).toBe(true);
    });

    it("throws StoreUnavailableError when the storage fails, remembering nothing", async () => {
      const { guards, faults } = await make();
      const [guard] = guards(1) as [ReplayGuard];
      faults.failNext("create");

      await expect(guard.firstSeen("v0=ff", window(0))).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      expect(await guard.firstSeen("v0=ff", window(1))).toBe(true);
    });
  });
}

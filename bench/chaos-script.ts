import type { DynamoFault, FaultPlan } from "../test/support/fault-proxy.js";
import type { GroupScript } from "./chaos-alertmanager.js";

/** What one chaos run does; `npm run chaos` takes the defaults (CHAOS_SEED changes the seed). */
export interface ChaosSettings {
  seed: number;
  /** Alertmanager aggregation groups; each has 1-3 alerts. */
  groups: number;
  /** SIGKILLs of the server (each followed by a restart on the same data). */
  kills: number;
  /** TOCSIN_TIME_SCALE: the policy's 0/15/30/60 minutes become 0/7.5/15/30 s at 120. */
  timeScale: number;
  /** Groups fire, resolve and fire again within this many ms from the start. */
  scriptMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  /** Per cycle: calm, then a storage fault window, calm again, then the kill. */
  calmMs: number;
  faultWindowMs: number;
  downMs: number;
  /** Probability that a DynamoDB request meets the window's fault. */
  faultRate: number;
  /** How often Slack or PagerDuty is told to misbehave for its next request, during the kills. */
  channelFaultEveryMs: number;
  /**
   * A level is owed (reached, and delivered) when its incident stayed open this long after
   * it fell due: one that falls due while the server is down and is acknowledged before the
   * restart is rightly never sent. The run also waits this long past the last level's due time.
   */
  graceMs: number;
}

export const DEFAULT_SETTINGS: ChaosSettings = {
  seed: 11,
  groups: 48,
  kills: 6,
  timeScale: 120,
  scriptMs: 50_000,
  groupIntervalMs: 1_000,
  repeatIntervalMs: 6_000,
  calmMs: 1_500,
  faultWindowMs: 3_000,
  downMs: 1_000,
  faultRate: 0.5,
  channelFaultEveryMs: 400,
  graceMs: 10_000,
};

/** The storage fault of each cycle's window, in turn; the last mixes them all. */
export function faultPlanOf(cycle: number, rate: number): { kind: string; plan: FaultPlan } {
  const single: DynamoFault[] = ["reset", "throttle", "hang", "reset-after", "internal"];
  const kind = single[cycle % (single.length + 1)];
  return kind
    ? { kind, plan: { rate, kinds: [kind] } }
    : { kind: "mixed", plan: { rate, kinds: single } };
}

/**
 * The run's alert groups, from the seed: they start firing spread over the first 80 % of
 * the script; some resolve after 4-20 s, half of those fire again (a new episode, a new
 * incident) 2-6 s later, and some of those resolve too; a quarter are acknowledged in
 * Slack 3-12 s after they fire. Every change happens within `scriptMs`.
 */
export function groupScripts(random: () => number, settings: ChaosSettings): GroupScript[] {
  const between = (low: number, high: number) => low + random() * (high - low);
  const end = settings.scriptMs;
  return Array.from({ length: settings.groups }, (_, g) => {
    const firesAt = Math.round((g / settings.groups) * end * 0.8);
    const instances = Array.from(
      { length: 1 + Math.floor(random() * 3) },
      (_, i) => `node-${g}-${i}`,
    );
    const episodes: GroupScript["episodes"] = [];
    const resolves = random() < 0.4 ? Math.round(firesAt + between(4_000, 20_000)) : null;
    episodes.push({ firesAt, resolvesAt: resolves !== null && resolves < end ? resolves : null });
    const first = episodes[0]!;
    if (first.resolvesAt !== null && random() < 0.5) {
      const again = Math.round(first.resolvesAt + between(2_000, 6_000));
      const resolvesAgain = random() < 0.3 ? Math.round(again + between(4_000, 10_000)) : null;
      if (again < end)
        episodes.push({
          firesAt: again,
          resolvesAt: resolvesAgain !== null && resolvesAgain < end ? resolvesAgain : null,
        });
    }
    const acknowledgeAt = random() < 0.25 ? Math.round(firesAt + between(3_000, 12_000)) : null;
    return { name: `cluster-${g}`, instances, episodes, acknowledgeAt };
  });
}

import type { IncidentWithTimeline } from "../functions/core/incident.js";
import type { AcceptedAlert } from "./chaos-alertmanager.js";

/** One request PagerDuty's fake received: when (Date.now() ms), what it answered, the event. */
export interface PageRecord {
  at: number;
  status: number;
  dedupKey: string | undefined;
  action: string | undefined;
  level: number | undefined;
}

export interface TallyInput {
  accepted: readonly AcceptedAlert[];
  incidents: readonly IncidentWithTimeline[];
  pages: readonly PageRecord[];
  /** Per level (1-based index 0): ms from an incident's escalation base to it, on the run's clock. */
  levelOffsetsMs: readonly number[];
  /** When the incidents were read (Date.now() ms): the end of the run. */
  readAt: number;
  /**
   * A level is owed (reached and delivered) only when its incident stayed open for this long
   * of healthy service in a row (outside `outages`) after it fell due, or after it was
   * reached: one that falls due during an outage and is acknowledged before the service is
   * back is rightly never sent.
   */
  graceMs: number;
  /** When the server was down or storage faults were injected (Date.now() ms). */
  outages: ReadonlyArray<{ from: number; to: number }>;
}

/** The chaos run's counts; the aim for each of the first six is 0. */
export interface ChaosCounts {
  /** A firing alert tocsin accepted (2xx) with no incident for its episode. */
  alertsLost: number;
  /** A resolve tocsin accepted whose episode's incident is not resolved. */
  resolvesLost: number;
  /** Incidents beyond the first for one episode, or beyond one open incident per fingerprint. */
  incidentsDuplicated: number;
  /** A level the escalation reached, its incident open `graceMs` of healthy service in a row after, with no trigger PagerDuty accepted for it. */
  levelsNeverDelivered: number;
  /** A level that fell due, its incident open `graceMs` of healthy service in a row after, and was never reached. */
  levelsNeverReached: number;
  /** An incident whose last event at PagerDuty disagrees with its state in tocsin. */
  pagerDutyStateWrong: number;
  /** Triggers PagerDuty accepted again for a level it already had (harmless by dedup_key; counted). */
  pagesDeliveredTwice: number;
  /** Triggers PagerDuty accepted after the incident's acknowledge or resolve was recorded. */
  pagesAfterAcknowledge: number;
}

export interface Tally {
  counts: ChaosCounts;
  /** Up to five examples per non-zero count, for a reader to follow up. */
  examples: Partial<Record<keyof ChaosCounts, string[]>>;
  incidents: number;
  episodes: number;
  levelsReached: number;
  triggersAccepted: number;
}

const ACTION_STATE: Record<string, string> = {
  trigger: "triggered",
  acknowledge: "acknowledged",
  resolve: "resolved",
};

/**
 * The levels an incident's escalation reached, with when: each `escalated` event's time, and
 * for the levels up to its `level` without one (the first) the time it fell due.
 */
function levelsReached(incident: IncidentWithTimeline, dueAt: (level: number) => number) {
  const reached = new Map<number, number>();
  for (const event of incident.timeline)
    if (event.type === "escalated" && event.level !== undefined && !reached.has(event.level))
      reached.set(event.level, Date.parse(event.at));
  for (let level = 1; level <= incident.level; level++)
    if (!reached.has(level)) reached.set(level, dueAt(level));
  return reached;
}

/**
 * The longest stretch of [from, to] outside every outage: how long the service had, in one
 * piece, to do something that fell due at `from` (a resumed escalation needs the server up
 * and its storage answering for a while, not in slivers between kills).
 */
export function longestHealthyMs(
  from: number,
  to: number,
  outages: ReadonlyArray<{ from: number; to: number }>,
): number {
  let longest = 0;
  let cursor = from;
  for (const outage of [...outages].sort((a, b) => a.from - b.from)) {
    if (outage.to <= cursor) continue;
    if (outage.from >= to) break;
    longest = Math.max(longest, outage.from - cursor);
    cursor = Math.max(cursor, outage.to);
  }
  return Math.max(longest, to - cursor);
}

/**
 * Counts what the chaos run promises never happens (README, Reliability), from what tocsin
 * accepted, the incidents it holds at the end, and what PagerDuty's fake received. Pure.
 */
export function tally(input: TallyInput): Tally {
  const counts: ChaosCounts = {
    alertsLost: 0,
    resolvesLost: 0,
    incidentsDuplicated: 0,
    levelsNeverDelivered: 0,
    levelsNeverReached: 0,
    pagerDutyStateWrong: 0,
    pagesDeliveredTwice: 0,
    pagesAfterAcknowledge: 0,
  };
  const examples: Tally["examples"] = {};
  const count = (what: keyof ChaosCounts, example: string, n = 1) => {
    counts[what] += n;
    const list = examples[what] ?? [];
    if (list.length < 5) list.push(example);
    examples[what] = list;
  };

  const byEpisode = new Map<string, IncidentWithTimeline[]>();
  const byFingerprint = new Map<string, IncidentWithTimeline[]>();
  for (const incident of input.incidents) {
    const episode = `${incident.fingerprint} ${incident.startedAt}`;
    byEpisode.set(episode, [...(byEpisode.get(episode) ?? []), incident]);
    byFingerprint.set(incident.fingerprint, [
      ...(byFingerprint.get(incident.fingerprint) ?? []),
      incident,
    ]);
  }

  // Alerts: an accepted firing alert is covered by an incident of its own episode, or by
  // the incident its answer named (a new episode arriving while the last one is open joins
  // it) as long as that one is open or the alert's resolve was accepted too. An accepted
  // resolve leaves no incident of its episode or an earlier one open.
  const byId = new Map(input.incidents.map((incident) => [incident.id, incident]));
  const resolvedUpTo = new Map<string, number>();
  for (const alert of input.accepted)
    if (alert.status === "resolved")
      resolvedUpTo.set(
        alert.fingerprint,
        Math.max(resolvedUpTo.get(alert.fingerprint) ?? 0, Date.parse(alert.startsAt)),
      );
  const episodes = new Set<string>();
  const lost = new Set<string>();
  for (const alert of input.accepted) {
    if (alert.status !== "firing") continue;
    const startsAt = Date.parse(alert.startsAt);
    const episode = `${alert.fingerprint} ${startsAt}`;
    episodes.add(episode);
    const own = (byFingerprint.get(alert.fingerprint) ?? []).some(
      (incident) => Date.parse(incident.startedAt) === startsAt,
    );
    const named = alert.incidentId ? byId.get(alert.incidentId) : undefined;
    const covered =
      named?.fingerprint === alert.fingerprint &&
      (named.status !== "resolved" || (resolvedUpTo.get(alert.fingerprint) ?? 0) >= startsAt);
    if (!own && !covered)
      lost.add(`${episode} (answered with ${alert.incidentId ?? "no incident"})`);
  }
  for (const episode of lost) count("alertsLost", episode);
  for (const [fingerprint, upTo] of resolvedUpTo)
    for (const incident of byFingerprint.get(fingerprint) ?? [])
      if (incident.status !== "resolved" && Date.parse(incident.startedAt) <= upTo)
        count("resolvesLost", `${incident.id} (resolve of ${fingerprint} ${upTo} accepted)`);

  // Duplicates: one incident per episode, one open incident per fingerprint.
  const duplicates = new Set<string>();
  for (const incidents of byEpisode.values())
    for (const incident of incidents.slice(1)) duplicates.add(incident.id);
  for (const incidents of byFingerprint.values()) {
    const open = incidents
      .filter((incident) => incident.status !== "resolved")
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const incident of open.slice(1)) duplicates.add(incident.id);
  }
  for (const id of duplicates) count("incidentsDuplicated", id);

  // Pages: what PagerDuty accepted, per incident and level, in the order it received them.
  const accepted = input.pages
    .filter((page) => page.status === 202 && page.dedupKey !== undefined)
    .sort((a, b) => a.at - b.at);
  let levelCount = 0;
  for (const incident of input.incidents) {
    const pages = accepted.filter((page) => page.dedupKey === incident.id);
    const triggers = pages.filter((page) => page.action === "trigger");
    const stoppedAt = Math.min(
      incident.acknowledgedAt ? Date.parse(incident.acknowledgedAt) : Number.POSITIVE_INFINITY,
      incident.resolvedAt ? Date.parse(incident.resolvedAt) : Number.POSITIVE_INFINITY,
      input.readAt,
    );
    // Nothing is owed before the incident item exists: its createdAt is when the first
    // delivery claimed the fingerprint, which may have failed and been retried much later.
    const written = Date.parse(
      incident.timeline.find((event) => event.type === "triggered")?.at ?? incident.createdAt,
    );
    const owed = (since: number) =>
      longestHealthyMs(Math.max(since, written), stoppedAt, input.outages) >= input.graceMs;
    if (incident.escalationPolicy) {
      const base = Date.parse(incident.escalationBaseAt ?? incident.createdAt);
      const dueAt = (level: number) => base + (input.levelOffsetsMs[level - 1] ?? 0);
      const reached = levelsReached(incident, dueAt);
      levelCount += reached.size;
      for (const [level, at] of reached) {
        const sent = triggers.filter((page) => page.level === level).length;
        if (sent === 0 && owed(at)) count("levelsNeverDelivered", `${incident.id} level ${level}`);
        if (sent > 1)
          count("pagesDeliveredTwice", `${incident.id} level ${level} ×${sent}`, sent - 1);
      }
      input.levelOffsetsMs.forEach((_, i) => {
        if (!reached.has(i + 1) && owed(dueAt(i + 1)))
          count("levelsNeverReached", `${incident.id} level ${i + 1}`);
      });
    }
    const acted = Math.min(
      incident.acknowledgedAt ? Date.parse(incident.acknowledgedAt) : Number.POSITIVE_INFINITY,
      incident.resolvedAt ? Date.parse(incident.resolvedAt) : Number.POSITIVE_INFINITY,
    );
    const late = triggers.filter((page) => page.at > acted).length;
    if (late > 0) count("pagesAfterAcknowledge", `${incident.id} ×${late}`, late);
    const last = pages.at(-1);
    if (last && ACTION_STATE[last.action ?? ""] !== incident.status)
      count(
        "pagerDutyStateWrong",
        `${incident.id}: ${incident.status} in tocsin, last PagerDuty event ${last.action}`,
      );
  }

  return {
    counts,
    examples,
    incidents: input.incidents.length,
    episodes: episodes.size,
    levelsReached: levelCount,
    triggersAccepted: accepted.filter((page) => page.action === "trigger").length,
  };
}

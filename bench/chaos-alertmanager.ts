import { setTimeout as sleep } from "node:timers/promises";
import { labelsFingerprint } from "../functions/core/fingerprint.js";
import { type Attempt, attempt, type Outcome } from "./chaos-http.js";

/**
 * Alertmanager's notification retries, as `notify/retry_stage.go` and `notify/util.go`
 * (prometheus/alertmanager) do them for a webhook: the first attempt at once, then
 * exponential backoff (cenkalti/backoff v5 defaults: 500 ms, ×1.5, ±50 %, at most 60 s)
 * until the flush's context ends; a 2xx is done, a 5xx or a connection error is retried,
 * any other status is "unrecoverable" and dropped. The context of one flush lasts the
 * group interval, at least `notify.MinTimeout` (10 s). Retry-After is not read.
 */
export const ALERTMANAGER_BACKOFF = {
  initialMs: 500,
  multiplier: 1.5,
  randomization: 0.5,
  maxMs: 60_000,
  minContextMs: 10_000,
};

export type NotifyResult = "accepted" | "refused" | "gave-up";

/** One episode of an alert group: it fires at `firesAt` and resolves at `resolvesAt` (ms since the run began). */
export interface Episode {
  firesAt: number;
  resolvesAt: number | null;
}

/** An Alertmanager aggregation group: its alerts (one label set each) and their episodes. */
export interface GroupScript {
  name: string;
  instances: string[];
  episodes: Episode[];
  /** When someone clicks Acknowledge on the first alert's incident (ms since the run began). */
  acknowledgeAt: number | null;
}

/** An alert that tocsin accepted (a 2xx), as the tally needs it. */
export interface AcceptedAlert {
  fingerprint: string;
  startsAt: string;
  status: "firing" | "resolved";
  incidentId: string | null;
}

export function groupLabels(group: string, instance: string): Record<string, string> {
  return {
    alertname: "ChaosTrainingStalled",
    severity: "critical",
    team: "ml-training",
    job: "chaos",
    cluster: group,
    instance,
  };
}

/** The group's notification at `t`: which episode is current and whether it fires, or null before the first. */
export function groupState(group: GroupScript, t: number) {
  let current: { index: number; firing: boolean } | null = null;
  group.episodes.forEach((episode, index) => {
    if (episode.firesAt <= t)
      current = { index, firing: episode.resolvesAt === null || t < episode.resolvesAt };
  });
  return current as { index: number; firing: boolean } | null;
}

/** Alertmanager's webhook v4 body for the group's state, dated on the run's clock. */
export function notificationBody(
  group: GroupScript,
  state: { index: number; firing: boolean },
  runStart: number,
) {
  const episode = group.episodes[state.index]!;
  const status = state.firing ? "firing" : "resolved";
  const startsAt = new Date(runStart + episode.firesAt).toISOString();
  const endsAt = state.firing
    ? "0001-01-01T00:00:00Z"
    : new Date(runStart + episode.resolvesAt!).toISOString();
  const alerts = group.instances.map((instance) => {
    const labels = groupLabels(group.name, instance);
    return {
      status,
      labels,
      annotations: { summary: `Training stalled on ${instance}`, episode: String(state.index) },
      startsAt,
      endsAt,
      generatorURL: "http://prometheus.chaos:9090/graph?g0.expr=up",
      fingerprint: labelsFingerprint(labels),
    };
  });
  return {
    version: "4",
    groupKey: `{}:{cluster="${group.name}"}`,
    truncatedAlerts: 0,
    status,
    receiver: "tocsin",
    groupLabels: { cluster: group.name },
    commonLabels: { alertname: "ChaosTrainingStalled", cluster: group.name },
    commonAnnotations: {},
    externalURL: "http://alertmanager.chaos:9093",
    alerts,
  };
}

/** cenkalti/backoff's randomized interval: interval ± randomization × interval. */
function randomized(intervalMs: number, random: () => number): number {
  const delta = ALERTMANAGER_BACKOFF.randomization * intervalMs;
  return intervalMs - delta + random() * (2 * delta);
}

/**
 * One flush's notification with Alertmanager's retries, until `deadline` (Date.now() ms).
 * Every attempt is recorded. The backoff ticker starts when an attempt starts, so a slow
 * attempt is followed by the next at once.
 */
export async function notifyWithRetries(options: {
  url: string;
  token: string;
  body: unknown;
  deadline: number;
  random: () => number;
  record: (attempt: Attempt) => void;
  what?: string;
}): Promise<{ result: NotifyResult; outcome: Outcome | null }> {
  const payload = JSON.stringify(options.body);
  let interval = ALERTMANAGER_BACKOFF.initialMs;
  let last: Outcome | null = null;
  for (;;) {
    const sentAt = Date.now();
    const remaining = options.deadline - sentAt;
    if (remaining <= 0) return { result: "gave-up", outcome: last };
    const outcome = await attempt(options.url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${options.token}`,
        "content-type": "application/json",
        "user-agent": "Alertmanager/0.25.0",
      },
      body: payload,
      timeoutMs: remaining,
    });
    options.record({
      route: "webhook",
      sentAt,
      endedAt: Date.now(),
      outcome,
      timeoutMs: remaining,
      ...(options.what ? { what: options.what } : {}),
    });
    last = outcome;
    if (outcome.kind === "answer" && outcome.status >= 200 && outcome.status < 300)
      return { result: "accepted", outcome };
    if (outcome.kind === "answer" && outcome.status < 500) return { result: "refused", outcome };
    const wait = randomized(interval, options.random);
    interval = Math.min(interval * ALERTMANAGER_BACKOFF.multiplier, ALERTMANAGER_BACKOFF.maxMs);
    const next = sentAt + wait;
    if (next >= options.deadline) return { result: "gave-up", outcome };
    await sleep(Math.max(0, next - Date.now()));
  }
}

/**
 * Whether Alertmanager notifies a group whose alerts all fire or all resolved, given what
 * its notification log holds from the last notification that succeeded (null: none),
 * as `DedupStage.needsUpdate` in notify/dedup_stage.go decides.
 */
export function needsUpdate(
  notified: "firing" | "resolved" | null,
  firing: boolean,
  repeatElapsed: boolean,
): boolean {
  if (notified === null) return firing;
  if (firing) return notified === "resolved" || repeatElapsed;
  return notified === "firing";
}

export interface GroupRun {
  /** Alerts of the group tocsin accepted, with the incident each landed on. */
  accepted: AcceptedAlert[];
  notifications: Record<NotifyResult, number>;
  /** The incident id of the first alert per episode (what an Acknowledge click names). */
  firstIncident: Map<number, string>;
}

/**
 * Runs one aggregation group as Alertmanager's dispatcher would: at every group interval,
 * notify with retries when `notify/dedup_stage.go` (needsUpdate) would, from the last
 * notification that succeeded: the alerts fire and were not notified firing (or nothing
 * was notified yet), they resolved and were notified firing, or they still fire and the
 * repeat interval passed. The notification log knows alerts by fingerprint, not by
 * episode: an alert that resolved and fired again before its resolve got through is not
 * notified again until the repeat interval, then with its new startsAt. A notification
 * that gave up is sent again at the next flush; a refused one is not (Alertmanager drops
 * it). Ends once the state is frozen (`frozenAt`) and nothing is left to notify, or at `stop`.
 */
export async function runGroup(options: {
  group: GroupScript;
  url: string;
  token: string;
  runStart: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  frozenAt: number;
  stopAt: () => number;
  random: () => number;
  record: (attempt: Attempt) => void;
  /** Told the incident of the first alert of each episode, once tocsin names it. */
  onFirstIncident?: (episode: number, incidentId: string) => void;
}): Promise<GroupRun> {
  const { group } = options;
  const run: GroupRun = {
    accepted: [],
    notifications: { accepted: 0, refused: 0, "gave-up": 0 },
    firstIncident: new Map(),
  };
  let notified: "firing" | "resolved" | null = null;
  let notifiedAt = 0;
  const first = group.episodes[0]!.firesAt;
  await sleep(Math.max(0, options.runStart + first - Date.now()));
  while (Date.now() < options.stopAt()) {
    const t = Math.min(Date.now() - options.runStart, options.frozenAt);
    const state = groupState(group, t);
    const key = state ? (state.firing ? "firing" : "resolved") : null;
    const repeatElapsed = Date.now() - notifiedAt >= options.repeatIntervalMs;
    if (state && needsUpdate(notified, state.firing, repeatElapsed)) {
      const body = notificationBody(group, state, options.runStart);
      const deadline =
        Date.now() + Math.max(options.groupIntervalMs, ALERTMANAGER_BACKOFF.minContextMs);
      const { result, outcome } = await notifyWithRetries({
        url: options.url,
        token: options.token,
        body,
        deadline: Math.min(deadline, options.stopAt()),
        random: options.random,
        record: options.record,
        what: `${group.name} episode ${state.index} ${state.firing ? "firing" : "resolved"}`,
      });
      run.notifications[result] += 1;
      if (result !== "gave-up") {
        notified = key;
        notifiedAt = Date.now();
      }
      if (result === "accepted" && outcome?.kind === "answer") {
        const incidents =
          (outcome.body as { incidents?: Array<{ id: string }> } | null)?.incidents ?? [];
        body.alerts.forEach((alert, i) => {
          run.accepted.push({
            fingerprint: alert.fingerprint,
            startsAt: alert.startsAt,
            status: alert.status as "firing" | "resolved",
            incidentId: state.firing ? (incidents[i]?.id ?? null) : null,
          });
        });
        const id = incidents[0]?.id;
        if (state.firing && id && !run.firstIncident.has(state.index)) {
          run.firstIncident.set(state.index, id);
          options.onFirstIncident?.(state.index, id);
        }
      }
    }
    const settled = key === notified || (notified === null && !state?.firing);
    if (t >= options.frozenAt && settled) break;
    await sleep(options.groupIntervalMs);
  }
  return run;
}

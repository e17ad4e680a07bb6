import type { IncidentWithTimeline } from "../functions/core/incident.js";
import type { FaultProxyStats } from "../test/support/fault-proxy.js";
import type { NotifyResult } from "./chaos-alertmanager.js";
import { type AnswerRow, FAIR_WAIT_MS, type storageFaultAnswers } from "./chaos-answers.js";
import type { ChaosSettings } from "./chaos-script.js";
import type { ChaosCounts, Tally } from "./chaos-tally.js";

export interface ChaosResult {
  settings: ChaosSettings;
  environment: {
    node: string;
    cpus: number;
    date: string;
    /** The machine's 1-minute load average at the end (others' work slows every answer). */
    loadAverage: number;
    /** How late the run's own event loop (fakes, proxy, senders) ran: p99 and max, ms. */
    harnessLoopDelayMs: { p99: number; max: number };
  };
  seconds: number;
  kills: number;
  /** ms from spawning `npm start` to its first healthy answer, per life. */
  startupMs: number[];
  alerts: {
    groups: number;
    notifications: Record<NotifyResult, number>;
    acceptedAlerts: number;
  };
  acknowledgements: { clicked: number; answered: number; outcomes: Record<string, number> };
  tally: Tally;
  /**
   * Incidents the list named but GET answered 404: an index entry without its item. dynalite
   * writes an item's index entries before the item itself, so a SIGKILL between the two
   * leaves one (DynamoDB writes both at once).
   */
  phantoms: string[];
  answers: AnswerRow[];
  storageFaults: ReturnType<typeof storageFaultAnswers>;
  proxy: FaultProxyStats;
  channels: {
    injected: Record<string, number>;
    pagerDutyByStatus: Record<string, number>;
    slackByStatus: Record<string, number>;
    /** notification_failed events left on the incidents' timelines, by channel. */
    failedOnTimelines: Record<string, number>;
  };
  /** The server's ERROR log lines over all its lives, by message. */
  serverErrors: Record<string, number>;
}

/** How many of each. */
export function tallyOf(values: Iterable<string | number>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** The channels of the notification_failed events left on the incidents' timelines. */
export function failedOnTimelines(incidents: readonly IncidentWithTimeline[]) {
  return tallyOf(
    incidents.flatMap((incident) =>
      incident.timeline
        .filter((event) => event.type === "notification_failed")
        .map((event) => event.channel ?? "(none)"),
    ),
  );
}

const COUNT_ROWS: Array<[keyof ChaosCounts, string, "0" | "counted"]> = [
  [
    "alertsLost",
    "alerts lost: a firing alert accepted (2xx) with no incident of its episode, and the one its answer named gone or closed",
    "0",
  ],
  [
    "resolvesLost",
    "resolves lost: a resolve accepted, an incident of its episode or an earlier one still open",
    "0",
  ],
  [
    "incidentsDuplicated",
    "incidents duplicated: a 2nd incident for one episode, or a 2nd open one per fingerprint",
    "0",
  ],
  [
    "levelsNeverDelivered",
    "levels never delivered: a level reached, no trigger PagerDuty accepted for it, though its incident then stayed open through {grace} of healthy service in a row",
    "0",
  ],
  [
    "levelsNeverReached",
    "levels never reached: a level due, never escalated to, though its incident then stayed open through {grace} of healthy service in a row",
    "0",
  ],
  [
    "pagerDutyStateWrong",
    "PagerDuty state wrong: its last event disagrees with the incident's state",
    "0",
  ],
  [
    "pagesDeliveredTwice",
    "pages delivered twice: another accepted trigger for the same level (harmless by dedup_key)",
    "counted",
  ],
  [
    "pagesAfterAcknowledge",
    "pages after an acknowledge or resolve was recorded (allowed in flight, if followed by one)",
    "counted",
  ],
];

/** The counts whose aim is 0 and that are not, with storage faults not answered 503 + Retry-After. */
export function countsThatShouldBeZero(result: ChaosResult): Array<[string, number]> {
  const failing: Array<[string, number]> = COUNT_ROWS.filter(
    ([key, , aim]) => aim === "0" && result.tally.counts[key] > 0,
  ).map(([key]) => [key, result.tally.counts[key]]);
  const { otherServerErrors, timeouts } = result.storageFaults;
  if (otherServerErrors > 0) failing.push(["storageFaultsNot503", otherServerErrors]);
  if (timeouts > 0) failing.push(["storageFaultsUnanswered", timeouts]);
  return failing;
}

const list = (record: Record<string, number>) =>
  Object.entries(record)
    .sort(([, a], [, b]) => b - a)
    .map(([key, n]) => `${n} × ${key}`)
    .join(", ") || "none";

const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

export function chaosMarkdown(result: ChaosResult): string {
  const { tally, settings } = result;
  const restarts = result.startupMs.slice(1);
  const lines = [
    `### Chaos run (seed ${settings.seed}, ${result.kills} SIGKILLs, ${settings.groups} alert groups, time scale ${settings.timeScale}; ${result.seconds.toFixed(0)} s, ${result.environment.node}, ${result.environment.cpus} CPUs, load average ${result.environment.loadAverage.toFixed(1)}; the run's own event loop late by ${result.environment.harnessLoopDelayMs.p99} ms at p99, ${result.environment.harnessLoopDelayMs.max} ms at most)`,
    "",
    `${result.alerts.acceptedAlerts} alerts accepted in ${result.alerts.notifications.accepted} notifications (${result.alerts.notifications["gave-up"]} given up after their retries and sent again at the next flush, ${result.alerts.notifications.refused} refused with a 4xx); ${tally.episodes} alert episodes, ${tally.incidents} incidents, ${tally.levelsReached} levels reached, ${tally.triggersAccepted} triggers accepted by PagerDuty; ${result.acknowledgements.answered}/${result.acknowledgements.clicked} Slack acknowledgements answered (${list(result.acknowledgements.outcomes)}). Restarts took ${Math.min(...restarts)}-${Math.max(...restarts)} ms to healthy.`,
    "",
    "| count | aim | measured | examples |",
    "|---|---|---|---|",
    ...COUNT_ROWS.map(
      ([key, what, aim]) =>
        `| ${what.replace("{grace}", `${settings.graceMs / 1000} s`)} | ${aim} | **${tally.counts[key]}** | ${(tally.examples[key] ?? []).slice(0, 2).join("; ")} |`,
    ),
    "",
    `Phantom incidents (listed by an index, no item: dynalite writes an item's index entries first, and a SIGKILL between the two writes tears them): **${result.phantoms.length}**${result.phantoms.length ? ` (${result.phantoms.slice(0, 3).join(", ")})` : ""}.`,
    "",
    `Answers while DynamoDB faults were injected (${list(result.proxy.faults)} faults in ${result.proxy.requests} DynamoDB requests): **${result.storageFaults.unavailableWithRetryAfter}** 503 + Retry-After, **${result.storageFaults.otherServerErrors}** other 5xx, **${result.storageFaults.timeouts}** no answer within ${FAIR_WAIT_MS / 1000} s or more (3 s for a Slack click), ${result.storageFaults.cutShort} cut short by Alertmanager's own deadline, ${result.storageFaults.connectionErrors} connection errors (requests still hanging when the server was killed), ${result.storageFaults.ok} 2xx.`,
    "",
    "| route | during | attempts | 2xx | 503 + Retry-After | 503 bare | other 5xx | 4xx | no answer | cut short | connection errors |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...result.answers.map(
      (row) =>
        `| ${row.route} | ${row.during} | ${row.attempts} | ${row.ok} | ${row.unavailableWithRetryAfter} | ${row.unavailableBare} | ${list(row.otherServerErrors)} | ${list(row.clientErrors)} | ${row.timeouts} | ${row.cutShort} | ${list(row.connectionErrors)} |`,
    ),
    "",
    `Slack and PagerDuty misbehaved ${sum(result.channels.injected)} times (${list(result.channels.injected)}). PagerDuty answered: ${list(result.channels.pagerDutyByStatus)} (0 = hung or dropped). Slack answered: ${list(result.channels.slackByStatus)}. notification_failed left on timelines: ${list(result.channels.failedOnTimelines)}.`,
    "",
    `Server ERROR log lines: ${list(result.serverErrors)}.`,
  ];
  return lines.join("\n");
}

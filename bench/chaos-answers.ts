import type { Attempt } from "./chaos-http.js";

/** A stretch of the run (Date.now() ms): a storage fault window of one kind, or the server down. */
export interface Window {
  kind: string;
  from: number;
  to: number;
}

/** What the answers of one route came to in one stretch of the run. */
export interface AnswerRow {
  route: Attempt["route"];
  /** The fault kind whose window the attempt overlapped, "server down", or "no fault". */
  during: string;
  attempts: number;
  ok: number;
  /** 503 with a Retry-After header: what every storage fault should answer. */
  unavailableWithRetryAfter: number;
  /** 503 without Retry-After. */
  unavailableBare: number;
  /** Other 5xx, by status. */
  otherServerErrors: Record<string, number>;
  /** 4xx, by status. */
  clientErrors: Record<string, number>;
  /** No answer within a wait of at least `FAIR_WAIT_MS` (Slack's clicks: its 3 s). */
  timeouts: number;
  /** No answer, but the sender had less than that left of its own deadline. */
  cutShort: number;
  /** Connection refused or reset, by code. */
  connectionErrors: Record<string, number>;
}

/** Waits shorter than this that end without an answer say more about the sender's deadline. */
export const FAIR_WAIT_MS = 5_000;
/** Slack waits 3 s for an interaction's answer. */
const CLICK_BUDGET_MS = 3_000;

const overlaps = (attempt: Attempt, window: Window) =>
  attempt.sentAt <= window.to && attempt.endedAt >= window.from;

/**
 * Sorts every attempt by route and by what was going on while it was under way: a storage
 * fault window first (its kind), else the server being down (killed, restarting), else
 * nothing. Pure.
 */
export function answersByWindow(
  attempts: readonly Attempt[],
  faults: readonly Window[],
  down: readonly Window[],
): AnswerRow[] {
  const rows = new Map<string, AnswerRow>();
  for (const attempt of attempts) {
    const during =
      faults.find((w) => overlaps(attempt, w))?.kind ??
      (down.some((w) => overlaps(attempt, w)) ? "server down" : "no fault");
    const key = `${attempt.route} ${during}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        route: attempt.route,
        during,
        attempts: 0,
        ok: 0,
        unavailableWithRetryAfter: 0,
        unavailableBare: 0,
        otherServerErrors: {},
        clientErrors: {},
        timeouts: 0,
        cutShort: 0,
        connectionErrors: {},
      };
      rows.set(key, row);
    }
    row.attempts += 1;
    const outcome = attempt.outcome;
    if (outcome.kind === "timeout") {
      const fair = attempt.route === "click" ? CLICK_BUDGET_MS : FAIR_WAIT_MS;
      if (attempt.timeoutMs >= fair) row.timeouts += 1;
      else row.cutShort += 1;
    } else if (outcome.kind === "error")
      row.connectionErrors[outcome.code] = (row.connectionErrors[outcome.code] ?? 0) + 1;
    else if (outcome.status < 400) row.ok += 1;
    else if (outcome.status === 503 && outcome.retryAfter) row.unavailableWithRetryAfter += 1;
    else if (outcome.status === 503) row.unavailableBare += 1;
    else if (outcome.status >= 500)
      row.otherServerErrors[outcome.status] = (row.otherServerErrors[outcome.status] ?? 0) + 1;
    else row.clientErrors[outcome.status] = (row.clientErrors[outcome.status] ?? 0) + 1;
  }
  return [...rows.values()].sort(
    (a, b) => a.route.localeCompare(b.route) || a.during.localeCompare(b.during),
  );
}

/** Over the storage fault windows: answers that were 503 + Retry-After, and every other failure. */
export function storageFaultAnswers(rows: readonly AnswerRow[], faultKinds: readonly string[]) {
  const during = rows.filter((row) => faultKinds.includes(row.during));
  const sum = (pick: (row: AnswerRow) => number) => during.reduce((n, row) => n + pick(row), 0);
  const values = (record: Record<string, number>) =>
    Object.values(record).reduce((n, v) => n + v, 0);
  return {
    unavailableWithRetryAfter: sum((row) => row.unavailableWithRetryAfter),
    otherServerErrors: sum((row) => row.unavailableBare + values(row.otherServerErrors)),
    timeouts: sum((row) => row.timeouts),
    cutShort: sum((row) => row.cutShort),
    connectionErrors: sum((row) => values(row.connectionErrors)),
    ok: sum((row) => row.ok),
  };
}

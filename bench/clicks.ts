import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { RESPONSE_URL } from "../test/support/fake-slack.js";
import { startLocalWithFakes } from "../test/support/local-with-fakes.js";
import { postAlert } from "../test/support/post-alert.js";
import { slackClick } from "../test/support/slack-click.js";

const SIGNING_SECRET = "bench-signing-secret";
const WEBHOOK = "bench-webhook";
const DMITRI = { id: "U0DMITRI1", username: "dmitri" };

export interface ClickResult {
  clicks: number;
  /** How long fake Slack took to answer each call during the clicks (0: at once). */
  slackDelayMs: number;
  /** Private notes Slack received (response_url posts or chat.postEphemeral), per click. */
  notesPerClick: number;
  /** Click request sent → 200 received, ms. */
  answered: { p50: number; p99: number; max: number };
  /** Click request sent → the escalation's execution no longer running, ms. */
  stopped: { p50: number; p99: number; max: number };
  /** Click request sent → PagerDuty's acknowledge received (the mirror), ms. */
  mirrored: { p50: number; p99: number; max: number };
  notAcknowledged: number;
}

export function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  const round = (v: number) => Math.round(v * 10) / 10;
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? Number.NaN) };
}

/**
 * Acknowledge clicks on the local server, as Slack sends them (signed block_actions): fires
 * `count` critical alerts, waits for their first page, then clicks Acknowledge on each, one
 * at a time, timing the 200, the escalation's execution stopping, and PagerDuty's acknowledge.
 * With `slackDelayMs`, fake Slack answers every call that late during the clicks (a slow
 * Slack): the click's answer must not wait for it.
 */
export async function measureClicks(
  count = 200,
  log: (line: string) => void = () => undefined,
  slackDelayMs = 0,
): Promise<ClickResult> {
  const fakes = await startLocalWithFakes({
    webhookToken: WEBHOOK,
    apiToken: "bench-api",
    slack: { signingSecret: SIGNING_SECRET },
  });
  const { local, pagerDuty, slack } = fakes;
  try {
    log(`clicks: opening ${count} critical incidents ...`);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const posted = await postAlert(local.url, WEBHOOK, {
        labels: {
          alertname: "TrainingNaNLoss",
          job: `bench-${i}`,
          severity: "critical",
          team: "ml-training",
        },
      });
      ids.push(posted.incident!.id);
    }
    while (pagerDuty.events.filter((e) => e.event_action === "trigger").length < count)
      await sleep(20);
    log(`clicks: acknowledging ${count} incidents (Slack answering in ${slackDelayMs} ms) ...`);
    if (slackDelayMs > 0) slack.failNext("*", { delayMs: slackDelayMs, times: Infinity });
    slack.clearCalls();
    const answered: number[] = [];
    const stopped: number[] = [];
    const mirrored: number[] = [];
    let notAcknowledged = 0;
    for (const id of ids) {
      const click = slackClick({
        signingSecret: SIGNING_SECRET,
        actionId: "acknowledge",
        value: id,
        user: DMITRI,
        timestamp: new Date(),
        responseUrl: slack.responseUrl({ user: DMITRI.id, channel: "C024BE91L" }),
      });
      const started = performance.now();
      const response = await fetch(`${local.url}/slack/interactions`, {
        method: "POST",
        headers: click.headers,
        body: click.body,
      });
      answered.push(performance.now() - started);
      const body = (await response.json()) as { outcome: string };
      if (response.status !== 200 || body.outcome !== "done") notAcknowledged++;
      while (local.escalation.isRunning(id)) await sleep(1);
      stopped.push(performance.now() - started);
      while (!pagerDuty.events.some((e) => e.dedup_key === id && e.event_action === "acknowledge"))
        await sleep(1);
      mirrored.push(performance.now() - started);
    }
    // The notes of the last clicks may still be on their way to a slow Slack.
    const notes = () =>
      slack.callsTo(RESPONSE_URL).length + slack.callsTo("chat.postEphemeral").length;
    const settle = performance.now() + slackDelayMs * 2 + 2_000;
    while (notes() < count && performance.now() < settle) await sleep(20);
    return {
      clicks: count,
      slackDelayMs,
      notesPerClick: Math.round((notes() / count) * 100) / 100,
      answered: percentiles(answered),
      stopped: percentiles(stopped),
      mirrored: percentiles(mirrored),
      notAcknowledged,
    };
  } finally {
    await fakes.close();
  }
}

export function clicksMarkdown(result: ClickResult): string {
  const row = (what: string, p: ClickResult["answered"]) =>
    `| ${what} | ${p.p50} | ${p.p99} | ${p.max} |`;
  const slack = result.slackDelayMs
    ? `Slack answering in ${result.slackDelayMs} ms`
    : "Slack answering at once";
  return [
    `### Slack clicks on the local server (${result.clicks} Acknowledge clicks, one at a time, ${slack}; ${result.notAcknowledged} not acknowledged; ${result.notesPerClick} private notes per click)`,
    "",
    "| from the click request to | p50 ms | p99 ms | max ms |",
    "|---|---|---|---|",
    row("the 200 answer (Slack allows 3,000)", result.answered),
    row("the escalation's execution stopped", result.stopped),
    row("PagerDuty acknowledged (the mirror execution)", result.mirrored),
  ].join("\n");
}

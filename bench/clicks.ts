import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { startLocalWithFakes } from "../test/support/local-with-fakes.js";
import { postAlert } from "../test/support/post-alert.js";
import { slackClick } from "../test/support/slack-click.js";

const SIGNING_SECRET = "bench-signing-secret";
const WEBHOOK = "bench-webhook";
const DMITRI = { id: "U0DMITRI1", username: "dmitri" };

export interface ClickResult {
  clicks: number;
  /** Click request sent → 200 received, ms. */
  answered: { p50: number; p99: number; max: number };
  /** Click request sent → the escalation's execution no longer running, ms. */
  stopped: { p50: number; p99: number; max: number };
  /** Click request sent → PagerDuty's acknowledge received (the mirror), ms. */
  mirrored: { p50: number; p99: number; max: number };
  notAcknowledged: number;
}

function percentiles(values: number[]) {
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
 */
export async function measureClicks(
  count = 200,
  log: (line: string) => void = () => undefined,
): Promise<ClickResult> {
  const fakes = await startLocalWithFakes({
    webhookToken: WEBHOOK,
    apiToken: "bench-api",
    slack: { signingSecret: SIGNING_SECRET },
  });
  const { local, pagerDuty } = fakes;
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
    log(`clicks: acknowledging ${count} incidents ...`);
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
    return {
      clicks: count,
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
  return [
    `### Slack clicks on the local server (${result.clicks} Acknowledge clicks, one at a time; ${result.notAcknowledged} not acknowledged)`,
    "",
    "| from the click request to | p50 ms | p99 ms | max ms |",
    "|---|---|---|---|",
    row("the 200 answer (Slack allows 3,000)", result.answered),
    row("the escalation's execution stopped", result.stopped),
    row("PagerDuty acknowledged (the mirror execution)", result.mirrored),
  ].join("\n");
}

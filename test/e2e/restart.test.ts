import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import { type LocalWithFakes, startLocalWithFakes } from "../support/local-with-fakes.js";
import { isPagerDutyChannel, pagerDutyPerLevel } from "../support/pagerduty-per-level.js";
import { waitUntil, within } from "../support/poll-until.js";
import { postAlert } from "../support/post-alert.js";

// The first run keeps real time: level 2 is 15 minutes away, so it cannot fire before the
// server stops however slow the machine is. The second runs 600 times faster (15 minutes are
// 1.5 s), so level 2 fell due while the server was down.
const SCALE = 600;
const LEVEL_GAP_MS = (15 * 60 * 1000) / SCALE;
/** How long an event may take on a loaded machine: a bound for failing, never a wait. */
const PATIENCE_MS = 30_000;
const WEBHOOK = "restart-webhook-token";
const API = "restart-api-token";

let running: LocalWithFakes | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// A PagerDuty service per level: each level sends a trigger of its own, which says its level.
const start = (dir: string, timeScale = SCALE) =>
  startLocalWithFakes({
    webhookToken: WEBHOOK,
    apiToken: API,
    timeScale,
    dataDir: dir,
    config: pagerDutyPerLevel(),
  });

/** The levels PagerDuty was sent a trigger for, in the order it received them. */
const triggered = (fakes: LocalWithFakes, id: string) =>
  fakes.pagerDuty.events
    .filter((event) => event.dedup_key === id)
    .map((event) => (event.payload as { custom_details: { level: number } }).custom_details.level);

async function incident(fakes: LocalWithFakes, id: string): Promise<IncidentWithTimeline> {
  const response = await fetch(`${fakes.local.url}/incidents/${id}`, {
    headers: { authorization: `Bearer ${API}` },
  });
  return (await response.json()) as IncidentWithTimeline;
}

/** The levels an incident's timeline records a PagerDuty page for, in order. */
const pages = (i: IncidentWithTimeline) =>
  i.timeline
    .filter((e) => e.type === "notified" && isPagerDutyChannel(e.channel))
    .map((e) => e.level);

describe("npm start, stopped and started again on the same data", () => {
  it("resumes a waiting escalation: the level that fell due meanwhile fires at once, none twice", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "tocsin-restart-"));
    running = await start(dataDir, 1);
    const firing = await postAlert(running.local.url, WEBHOOK, {
      labels: {
        alertname: "TrainingNaNLoss",
        job: "llama-restart",
        severity: "critical",
        team: "ml-training",
      },
    });
    const id = firing.incident!.id;
    const first = running;
    await waitUntil(
      async () => pages(await incident(first, id)).length >= 1,
      "level 1 paged",
      PATIENCE_MS,
    );
    const openedAt = Date.parse((await incident(first, id)).createdAt);
    await running.close();
    running = undefined;
    expect(triggered(first, id)).toEqual([1]);

    // Down until level 2 is due at the second run's pace (only ever later, never sooner):
    // the time the scenario is about, not a wait for tocsin.
    await waitUntil(() => Date.now() > openedAt + LEVEL_GAP_MS, "level 2 due", PATIENCE_MS);
    running = await start(dataDir);
    const restartedBy = Date.now();
    expect(running.local.resumedEscalations).toEqual([id]);
    const second = running;
    // At once: the resumed escalation's first Task was due when the server started again.
    const resumedTask = await within(
      second.local.escalation.untilEntered((e) => e.incidentId === id && e.state === "Escalate"),
      "the resumed escalation's first Task",
      PATIENCE_MS,
    );
    expect(resumedTask.execution).not.toBe(id);
    expect(Date.parse((resumedTask.input as { dueAt: string }).dueAt)).toBeLessThanOrEqual(
      restartedBy,
    );
    await waitUntil(
      async () => pages(await incident(second, id)).length >= 2,
      "level 2 paged after the restart",
      PATIENCE_MS,
    );
    // Level 1 is not paged again. (A slow restart may find level 3 due as well: it fires
    // after level 2, once.)
    const levels = triggered(second, id);
    expect(levels.slice(0, 1)).toEqual([2]);
    expect(new Set(levels).size).toBe(levels.length);
    const paged = pages(await incident(second, id));
    expect(paged.slice(0, 2)).toEqual([1, 2]);
    expect(new Set(paged).size).toBe(paged.length);
    const timeline = (await incident(second, id)).timeline;
    const escalated = timeline.filter((e) => e.type === "escalated").map((e) => e.level);
    expect(escalated.slice(0, 1)).toEqual([2]);
    expect(new Set(escalated).size).toBe(escalated.length);
  });

  it("leaves resolved incidents alone", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "tocsin-restart-"));
    running = await start(dataDir);
    const firing = await postAlert(running.local.url, WEBHOOK, {
      labels: {
        alertname: "TrainingNaNLoss",
        job: "llama-resolved",
        severity: "critical",
        team: "ml-training",
      },
    });
    expect(firing.status).toBe(202);
    await postAlert(running.local.url, WEBHOOK, {
      labels: {
        alertname: "TrainingNaNLoss",
        job: "llama-resolved",
        severity: "critical",
        team: "ml-training",
      },
      status: "resolved",
    });
    await running.close();
    running = await start(dataDir);
    expect(running.local.resumedEscalations).toEqual([]);
  });
});

import { setTimeout as sleep } from "node:timers/promises";
import type { IncidentWithTimeline } from "../functions/core/incident.js";
import { slackClick } from "../test/support/slack-click.js";
import { type Attempt, attempt } from "./chaos-http.js";

/** Dmitri is on ml-training's rotation, so his clicks are accepted. */
const DMITRI = { id: "U0DMITRI1", username: "dmitri" };
const CLICK_TIMEOUT_MS = 3_000;
const READ_TIMEOUT_MS = 10_000;

export interface Acknowledgement {
  incidentId: string;
  /** Date.now() of the first click, and of the 200 that answered it (null: never answered). */
  clickedAt: number;
  answeredAt: number | null;
  clicks: number;
  /** Slack's answer body's `outcome` (`done`, or why nothing changed). */
  outcome: string | null;
}

/**
 * Someone clicks Acknowledge in Slack, and clicks again while the click fails (Slack does
 * not retry an interaction; a person does), for up to `giveUpMs`.
 */
export async function acknowledgeInSlack(options: {
  url: string;
  signingSecret: string;
  incidentId: string;
  giveUpMs: number;
  record: (attempt: Attempt) => void;
}): Promise<Acknowledgement> {
  const clickedAt = Date.now();
  const ack: Acknowledgement = {
    incidentId: options.incidentId,
    clickedAt,
    answeredAt: null,
    clicks: 0,
    outcome: null,
  };
  while (Date.now() - clickedAt < options.giveUpMs) {
    const click = slackClick({
      signingSecret: options.signingSecret,
      actionId: "acknowledge",
      value: options.incidentId,
      user: DMITRI,
      timestamp: new Date(),
    });
    const sentAt = Date.now();
    ack.clicks += 1;
    const outcome = await attempt(`${options.url}/slack/interactions`, {
      method: "POST",
      headers: click.headers,
      body: click.body,
      timeoutMs: CLICK_TIMEOUT_MS,
    });
    options.record({
      route: "click",
      sentAt,
      endedAt: Date.now(),
      outcome,
      timeoutMs: CLICK_TIMEOUT_MS,
    });
    if (outcome.kind === "answer" && outcome.status === 200) {
      ack.answeredAt = Date.now();
      ack.outcome = (outcome.body as { outcome?: string } | null)?.outcome ?? null;
      return ack;
    }
    await sleep(1_000);
  }
  return ack;
}

/**
 * A manager's page open during the run: the incident list and one incident, in turn, every
 * `everyMs`, until `until()` says stop. Every answer is recorded.
 */
export async function readerLoop(options: {
  url: string;
  apiToken: string;
  known: readonly string[];
  everyMs: number;
  until: () => boolean;
  random: () => number;
  record: (attempt: Attempt) => void;
}): Promise<void> {
  const headers = { authorization: `Bearer ${options.apiToken}` };
  let turn = 0;
  while (!options.until()) {
    const id = options.known[Math.floor(options.random() * options.known.length)];
    const path = turn++ % 2 === 0 || !id ? "/incidents?limit=20" : `/incidents/${id}`;
    const sentAt = Date.now();
    const outcome = await attempt(`${options.url}${path}`, {
      headers,
      timeoutMs: READ_TIMEOUT_MS,
    });
    options.record({
      route: "read",
      sentAt,
      endedAt: Date.now(),
      outcome,
      timeoutMs: READ_TIMEOUT_MS,
    });
    await sleep(options.everyMs);
  }
}

/**
 * Every incident with its timeline, through the read API (after the run, with no faults),
 * and the ids the list named that have no incident (404): an index entry without its item.
 */
export async function readAllIncidents(
  url: string,
  apiToken: string,
): Promise<{ incidents: IncidentWithTimeline[]; phantoms: string[] }> {
  const headers = { authorization: `Bearer ${apiToken}` };
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const answer = await attempt(`${url}/incidents?limit=500${query}`, {
      headers,
      timeoutMs: 30_000,
    });
    if (answer.kind !== "answer" || answer.status !== 200)
      throw new Error(`GET /incidents: ${JSON.stringify(answer).slice(0, 300)}`);
    const page = answer.body as { incidents: Array<{ id: string }>; nextCursor: string | null };
    ids.push(...page.incidents.map((incident) => incident.id));
    cursor = page.nextCursor;
  } while (cursor);
  const incidents: IncidentWithTimeline[] = [];
  const phantoms: string[] = [];
  for (const id of ids) {
    const answer = await attempt(`${url}/incidents/${id}`, { headers, timeoutMs: 30_000 });
    if (answer.kind === "answer" && answer.status === 404) phantoms.push(id);
    else if (answer.kind !== "answer" || answer.status !== 200)
      throw new Error(`GET /incidents/${id}: ${JSON.stringify(answer).slice(0, 300)}`);
    else incidents.push(answer.body as IncidentWithTimeline);
  }
  return { incidents, phantoms };
}

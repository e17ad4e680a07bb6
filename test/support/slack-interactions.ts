/**
 * What the Slack interaction tests share, on whichever stores they run: the fixture's people
 * and workspace, a recording runner and responder, and signed clicks through the handler.
 */
import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { beforeEach } from "vitest";
import { scaledAfter } from "../../functions/core/clock.js";
import type { Config } from "../../functions/core/config.js";
import type { EscalationRunner } from "../../functions/core/escalation-runner.js";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import type { IncidentStore } from "../../functions/core/incident-store.js";
import type { ReplayGuard } from "../../functions/core/replay-guard.js";
import { parseConfig } from "../../functions/core/yaml-files.js";
import {
  type SlackInteractionDeps,
  slackInteractions,
} from "../../functions/integrations/slack/interactions.js";
import type { SlackNote, SlackResponder } from "../../functions/integrations/slack/responder.js";
import { httpEvent, lambdaContext } from "./http-events.js";
import { candidate } from "./incidents.js";
import { fired } from "./lifecycle.js";
import { slackClick, slackHeaders } from "./slack-click.js";

export const SECRET = "slack-signing-secret-for-tests";
export const NOW = new Date("2026-11-30T09:30:00Z");
export const OPENED = "2026-11-30T09:25:00.000Z";
export const RESPONSE_URL = "https://hooks.slack.com/actions/T024BE7LD/6219/abcdef"; // the fixture's
export const WORKSPACE = "T024BE7LD"; // the fixture's team
export const DMITRI = { id: "U0DMITRI1", username: "dmitri.v" }; // ml-training rotation
export const ERIN = { id: "U0ERIN001", username: "erin" }; // ml-training rotation
export const GRACE = { id: "U0GRACE01", username: "grace" }; // ml-training's manager
export const ALICE = { id: "U0ALICE01", username: "alice" }; // another team's rotation
export const STRANGER = { id: "U024BE7LH", username: "ada" }; // in the workspace, not in tocsin.yaml
export const silent = new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" });
export const baseConfig = parseConfig(
  readFileSync(new URL("../../tocsin.yaml", import.meta.url), "utf8"),
);

/** The same config, with ml-training's incidents reserved to its schedules' people. */
export const rotationOnly: Config = {
  ...baseConfig,
  teams: {
    ...baseConfig.teams,
    "ml-training": { ...baseConfig.teams["ml-training"]!, responders: "rotation" },
  },
};

export type RunnerCall =
  | ["stop", string, number | undefined]
  | ["mirror", string, "acknowledge" | "resolve"]
  | ["resume", string, number, string, string]
  | ["start", string];

/** A hand-written EscalationRunner that records what it is asked. */
function recordingRunner(): EscalationRunner & { calls: RunnerCall[] } {
  const calls: RunnerCall[] = [];
  return {
    calls,
    start: async (id) => void calls.push(["start", id]),
    stop: async (id, snoozes) => void calls.push(["stop", id, snoozes]),
    mirror: async (id, kind) => void calls.push(["mirror", id, kind]),
    resume: async (id, step, dueAt, attempt) =>
      void calls.push(["resume", id, step, dueAt, attempt]),
  };
}

/** A hand-written SlackResponder that records the notes handed to it. */
function recordingResponder(): SlackResponder & { said: SlackNote[] } {
  const said: SlackNote[] = [];
  return {
    said,
    tell: async (note) => void said.push(note),
  };
}

/** The stores a test runs on, and what the replay guard remembered (one per request that acted). */
export interface SlackStores {
  store: IncidentStore;
  replayGuard: ReplayGuard;
  replayRecords(): Promise<string[]>;
}

// Live bindings: each test's stores, runner and responder, set before it by slackStores().
export let store: IncidentStore;
export let replayGuard: ReplayGuard;
export let runner: ReturnType<typeof recordingRunner>;
export let responder: ReturnType<typeof recordingResponder>;
let stores: SlackStores;
let fingerprints = 0;

/** Gives each test fresh stores from `make`, a fresh runner and a fresh responder. */
export function slackStores(make: () => Promise<SlackStores> | SlackStores) {
  beforeEach(async () => {
    stores = await make();
    ({ store, replayGuard } = stores);
    runner = recordingRunner();
    responder = recordingResponder();
  });
}

/** The replay guard's records: one per signed request that acted. */
export const replayRecords = () => stores.replayRecords();

export function handlerWith(overrides: Partial<SlackInteractionDeps> = {}) {
  const deps: SlackInteractionDeps = {
    store,
    config: baseConfig,
    escalation: runner,
    after: scaledAfter(1),
    logger: silent,
    signingSecret: () => SECRET,
    responder,
    replayGuard,
    now: () => NOW,
    ...overrides,
  };
  return slackInteractions(deps);
}

/** Opens a critical ml-training incident (standard escalation) as ingest would. */
export async function openIncident(routing: Parameters<typeof candidate>[2] = {}) {
  const incident = candidate(`fp-slack-${++fingerprints}`, OPENED, routing);
  await fired(store, incident);
  return incident;
}

export const stored = async (id: string) => (await store.get(id)) as IncidentWithTimeline;

export interface Click {
  actionId: string;
  value?: string | undefined;
  user?: { id: string; username?: string };
  teamId?: string | null;
  signedAt?: Date;
}

/** POST /slack/interactions with a signed click, through the middy handler. */
export async function post(
  handler: ReturnType<typeof slackInteractions>,
  request: { body: string; headers: Record<string, string> },
) {
  const result = await handler(
    httpEvent({
      routeKey: "POST /slack/interactions",
      body: request.body,
      headers: request.headers,
    }),
    lambdaContext,
  );
  return { status: result.statusCode, body: JSON.parse(result.body ?? "null") };
}

export const click = (handler: ReturnType<typeof slackInteractions>, c: Click) =>
  post(
    handler,
    slackClick({
      signingSecret: SECRET,
      actionId: c.actionId,
      value: c.value,
      user: c.user ?? DMITRI,
      teamId: c.teamId,
      timestamp: c.signedAt ?? NOW,
    }),
  );

/** A body of our choosing, correctly signed: what reaches the parser after the signature check. */
export const signed = (body: string) => ({ body, headers: slackHeaders(SECRET, NOW, body) });

import type { Logger } from "@aws-lambda-powertools/logger";
import type { Config } from "../core/config.js";
import { IncidentConflictError } from "../core/errors.js";
import {
  type Delivery,
  planEscalationStep,
  resumeAfterRestart,
  resumeAfterSnooze,
} from "../core/escalation.js";
import type { EscalationRunner } from "../core/escalation-runner.js";
import type { Incident, TimelineEvent } from "../core/incident.js";
import type { IncidentStore } from "../core/incident-store.js";
import type {
  DeliveryOutcome,
  Notification,
  Notifier,
  RunbookDetails,
  SlackMessageRef,
} from "../core/notification.js";
import { filledRunbook, type RunbookDefinition } from "../core/runbook.js";
import { planTestNotification, testResolution } from "../core/test-notification.js";
import type { Telemetry } from "./telemetry.js";

export interface EscalationDeps {
  store: IncidentStore;
  config: Config;
  runbooks: readonly RunbookDefinition[];
  notifiers: Partial<Record<Notifier["kind"], Notifier>>;
  logger: Logger;
  /** Local only: divides every delay. */
  timeScale: number;
  /** Counts notifications by channel type and outcome. */
  telemetry?: Telemetry;
}

/** What the state machine passes to a step and gets back (see lib/constructs/escalation.ts). */
export interface StepInput {
  incidentId: string;
  step: number;
}
export interface StepOutput extends StepInput {
  done: boolean;
  waitSeconds: number;
  /** When the next step is due: the state machine's Wait waits until then (TimestampPath). */
  dueAt: string;
}

function runbookDetails(deps: EscalationDeps, incident: Incident): RunbookDetails | null {
  return filledRunbook(deps.runbooks, deps.config.runbooks.baseUrl, incident);
}

function outcomeEvent(
  at: string,
  notification: Notification,
  outcome: DeliveryOutcome,
): TimelineEvent {
  const target = notification.recipients.map((r) => r.name).join(", ");
  return {
    at,
    type: outcome.status === "failed" ? "notification_failed" : "notified",
    level: notification.level,
    channel: notification.channelId,
    ...(target ? { target } : {}),
    detail: `${notification.kind}: ${outcome.detail}`,
  };
}

/**
 * Sends notifications, one per channel, all at once: one channel failing never holds up
 * another (notifiers never throw). Records every outcome on the timeline in one write.
 */
async function deliver(
  deps: EscalationDeps,
  incident: Incident,
  notifications: Notification[],
  now: () => Date,
) {
  const outcomes = await Promise.all(
    notifications.map(async (notification) => {
      const notifier = deps.notifiers[notification.channel.type];
      const outcome: DeliveryOutcome = notifier
        ? await notifier.send(notification)
        : {
            status: "not_delivered",
            detail: `not delivered: no ${notification.channel.type} notifier`,
          };
      deps.telemetry?.count("notifications", 1, {
        channel: notification.channel.type,
        outcome: outcome.status,
      });
      if (outcome.status === "failed") {
        deps.logger.warn("notification failed", {
          event: "notification_failed",
          incidentId: incident.id,
          channel: notification.channelId,
          detail: outcome.detail,
        });
      }
      return { notification, outcome };
    }),
  );
  const at = now().toISOString();
  const posted = outcomes.find(
    (o) => o.outcome.slackMessage && !incident.slackMessages[o.notification.channelId],
  );
  await deps.store.recordDeliveries(
    incident.id,
    outcomes.map((o) => outcomeEvent(at, o.notification, o.outcome)),
    posted
      ? {
          channelId: posted.notification.channelId,
          ref: posted.outcome.slackMessage as SlackMessageRef,
        }
      : undefined,
  );
}

function toNotification(
  deps: EscalationDeps,
  incident: Incident,
  delivery: Delivery,
): Notification | null {
  const channel = deps.config.channels[delivery.channelId];
  if (!channel) return null;
  return {
    kind: delivery.kind,
    incident,
    level: delivery.level,
    channelId: delivery.channelId,
    channel,
    recipients: delivery.recipients,
    runbook: runbookDetails(deps, incident),
    slackMessage: incident.slackMessages[delivery.channelId] ?? null,
  };
}

/**
 * One step of an incident's escalation, as the state machine's Task runs it: stop if the
 * incident is no longer triggered; else claim the step (so a retried Task never pages
 * twice, and an acknowledgement stored first always wins), send, record, and say when
 * the next step is due.
 */
export async function runEscalationStep(
  deps: EscalationDeps,
  input: StepInput,
  now: () => Date,
): Promise<StepOutput> {
  const stop = { ...input, done: true, waitSeconds: 0, dueAt: now().toISOString() };
  const stored = await deps.store.get(input.incidentId);
  if (stored?.status !== "triggered") return stop;
  const at = now();
  const context = { config: deps.config, now: at, timeScale: deps.timeScale };
  // A snooze that is over resumes here: the level reached fires again, later ones follow.
  const resume =
    stored.snoozedUntil && stored.snoozedUntil <= at.toISOString()
      ? resumeAfterSnooze(stored, stored.escalationStep, context)
      : null;
  const incident =
    resume && resume.step === input.step ? { ...stored, escalationBaseAt: resume.baseAt } : stored;
  const plan = incident.test
    ? planTestNotification(incident, deps.config)
    : planEscalationStep(incident, input.step, context);
  const claimed = await deps.store.claimEscalationStep(incident.id, {
    step: input.step,
    reached: plan.reached,
    level: plan.level,
    events: plan.events,
    now: at.toISOString(),
    resume: incident === stored ? undefined : { baseAt: resume!.baseAt },
  });
  if (claimed) {
    const notifications = plan.deliveries.flatMap(
      (d) => toNotification(deps, { ...incident, level: plan.level }, d) ?? [],
    );
    if (notifications.length > 0) await deliver(deps, incident, notifications, now);
  } else {
    const current = await deps.store.get(incident.id);
    if (current?.status !== "triggered") return stop;
  }
  if (incident.test) await resolveTest(deps, incident, now);
  if (!plan.next) return stop;
  return {
    incidentId: incident.id,
    step: plan.next.step,
    done: false,
    waitSeconds: plan.next.waitSeconds,
    dueAt: plan.next.dueAt,
  };
}

/**
 * A test incident resolves once its test is sent (a retried Task, which finds the step
 * claimed, resolves it too), and its Slack message is updated to say so.
 */
async function resolveTest(deps: EscalationDeps, incident: Incident, now: () => Date) {
  try {
    await deps.store.applyTransition(incident, testResolution(now().toISOString()));
  } catch (error) {
    if (error instanceof IncidentConflictError) return; // resolved already, by someone
    throw error;
  }
  await mirrorStateChange(deps, { incidentId: incident.id, kind: "resolve" }, now);
}

/**
 * Mirrors an acknowledgement or resolution to the channels that heard of the incident:
 * PagerDuty (same dedup key) if it was paged, and the Slack messages posted.
 */
export async function mirrorStateChange(
  deps: EscalationDeps,
  input: { incidentId: string; kind: "acknowledge" | "resolve" },
  now: () => Date,
): Promise<void> {
  const incident = await deps.store.get(input.incidentId);
  if (!incident) return;
  const told = new Set(
    incident.timeline.filter((e) => e.type === "notified" && e.channel).map((e) => e.channel!),
  );
  const notifications = [...told].flatMap((channelId) => {
    const channel = deps.config.channels[channelId];
    if (!channel || channel.type === "email") return [];
    const notification = toNotification(deps, incident, {
      channelId,
      kind: "trigger",
      level: incident.level,
      recipients: [],
    });
    if (!notification) return [];
    const actor = input.kind === "resolve" ? incident.resolvedBy : incident.acknowledgedBy;
    return [{ ...notification, kind: input.kind, actor: actor ?? undefined }];
  });
  if (notifications.length > 0) await deliver(deps, incident, notifications, now);
}

/**
 * Starts again the escalations an engine lost (the local server's, at start-up): every
 * triggered incident's, where resumeAfterRestart says. Returns the incidents resumed.
 */
export async function resumeLostEscalations(
  deps: { store: IncidentStore; runner: EscalationRunner },
  now: Date,
): Promise<string[]> {
  const resumed: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.list({ status: "triggered", limit: 100, cursor });
    for (const incident of page.incidents) {
      const plan = resumeAfterRestart(incident, now);
      if (!plan) continue;
      const waitSeconds = Math.max(0, (Date.parse(plan.dueAt) - now.getTime()) / 1000);
      await deps.runner.resume(incident.id, plan.step, waitSeconds, `restart-${now.getTime()}`);
      resumed.push(incident.id);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return resumed;
}

import { channelKind } from "./channels.js";
import type { After } from "./clock.js";
import type { Config, EscalationPolicy, UserConfig } from "./config.js";
import { type ContactTarget, personalDeliveries } from "./contacts.js";
import { LATER_ATTEMPTS } from "./delivery-retry.js";
import {
  escalates,
  type Incident,
  type IncidentWithTimeline,
  type TimelineEvent,
} from "./incident.js";
import type { Notification, OwedDelivery, Recipient } from "./notification.js";
import { whoIsOnCall } from "./schedule.js";

/** One message to send for an escalation step. */
export interface Delivery {
  channelId: string;
  kind: Extract<Notification["kind"], "trigger" | "escalate">;
  level: number;
  recipients: Recipient[];
  /** A personal delivery (contacts.ts): the person and method it reaches. */
  contact?: ContactTarget | undefined;
  /** A personal delivery: seconds after the level fires that its rule sends it (0: at once). */
  after?: number | undefined;
}

/** What one step of an incident's escalation does, decided without I/O. */
export interface EscalationPlan {
  /** The step this plan is for: 0 tells the route's channels; k ≥ 1 is the k-th level fired. */
  step: number;
  /** The escalation level reached (0 when no level fired yet), and the repeat cycle. */
  level: number;
  /** The index of the last level fired, counting repeats (k ≥ 1), or 0: what a resume re-fires. */
  reached: number;
  cycle: number;
  deliveries: Delivery[];
  /** Timeline events the step records besides delivery outcomes (escalated, problems). */
  events: TimelineEvent[];
  /** The next step and how long to wait for it, or null when the policy is exhausted. */
  next: { step: number; waitSeconds: number; dueAt: string } | null;
}

export interface EscalationContext {
  config: Config;
  now: Date;
  /** Adds the policy's delays (divided by the local time scale: core/clock.ts). */
  after: After;
}

/** Seconds from the incident's creation to the k-th level (k ≥ 1), repeats included. */
function levelOffset(policy: EscalationPolicy, delay: number, k: number): number {
  const n = policy.levels.length;
  const last = policy.levels[n - 1]!.after;
  const gap = n > 1 ? last - policy.levels[n - 2]!.after : 1800;
  // A repeat starts one gap after the last level, as the levels themselves are spaced.
  const cycleLength = last + Math.max(gap, 300);
  const cycle = Math.floor((k - 1) / n);
  return delay + policy.levels[(k - 1) % n]!.after + cycle * cycleLength;
}

/** A person as deliveries carry them: their contact data, not their rules (the config has those). */
function recipientOf(userId: string, user: UserConfig): Recipient {
  const { name, email, slack, phone, pagerduty } = user;
  return {
    userId,
    name,
    ...(email !== undefined ? { email } : {}),
    ...(slack !== undefined ? { slack } : {}),
    ...(phone !== undefined ? { phone } : {}),
    ...(pagerduty !== undefined ? { pagerduty } : {}),
  };
}

function recipientsOf(
  config: Config,
  incident: Incident,
  policy: EscalationPolicy,
  index: number,
  now: Date,
) {
  const team = config.teams[incident.team];
  const recipients: Recipient[] = [];
  const channels: string[] = [];
  const problems: string[] = [];
  const person = (userId: string | undefined, role: string) => {
    const user = userId ? config.users[userId] : undefined;
    if (!userId || !user) problems.push(`team ${incident.team} has no ${role}`);
    else if (!recipients.some((r) => r.userId === userId))
      recipients.push(recipientOf(userId, user));
  };
  for (const target of policy.levels[index]!.targets) {
    if ("oncall" in target) {
      const schedule = team?.schedules[target.oncall];
      person(
        schedule ? whoIsOnCall(schedule, now) : undefined,
        `${target.oncall} on-call schedule`,
      );
    } else if ("user" in target) person(target.user, `user ${target.user}`);
    else if ("role" in target) person(team?.manager, target.role);
    else channels.push(target.channel);
  }
  return { recipients, channels, problems };
}

/**
 * When step k of an incident's escalation falls due, in whole ms (what an ISO time keeps):
 * step 0 when the escalation starts, k ≥ 1 when the k-th level fires.
 */
function dueTime(
  incident: Incident,
  policy: EscalationPolicy | undefined,
  k: number,
  after: After,
): number {
  const base = new Date(incident.escalationBaseAt ?? incident.createdAt);
  if (k === 0 || !policy) return base.getTime();
  return after(base, levelOffset(policy, incident.delay, k)).getTime();
}

/**
 * When step `step` falls due (epoch ms), or null when the policy has no such step: past
 * its last level, only deliveries owed from earlier steps are left to send.
 */
export function stepDueAt(
  incident: Incident,
  step: number,
  context: Omit<EscalationContext, "now">,
): number | null {
  const policy = incident.escalationPolicy
    ? context.config.escalationPolicies[incident.escalationPolicy]
    : undefined;
  if (step === 0) return dueTime(incident, policy, 0, context.after);
  if (!policy || step > policy.levels.length * (policy.repeat + 1)) return null;
  return dueTime(incident, policy, step, context.after);
}

/**
 * What a claim of `plan` leaves owed: one entry per delivery, keyed by the step and its
 * place in it (`s2d0` a channel's, `s2p0` a person's), so that a retried or resumed step
 * finds exactly what is not recorded yet. A rule's delay is the entry's first attempt time.
 */
export function owedDeliveries(
  plan: EscalationPlan,
  claimedAt: string,
  after: After,
): OwedDelivery[] {
  let channels = 0;
  let personal = 0;
  return plan.deliveries.map((delivery) => ({
    key: delivery.contact ? `s${plan.step}p${personal++}` : `s${plan.step}d${channels++}`,
    step: plan.step,
    channelId: delivery.channelId,
    kind: delivery.kind,
    level: delivery.level,
    recipients: delivery.recipients,
    ...(delivery.contact ? { contact: delivery.contact } : {}),
    claimedAt,
    attempts: 0,
    ...(delivery.after
      ? { nextAttemptAt: after(new Date(claimedAt), delivery.after).toISOString() }
      : {}),
  }));
}

/**
 * Whether channel `channelId` was paged by a level fired before the k-th: a PagerDuty
 * service is alerted once per incident, its own escalation policy pages people from there.
 */
function pagedBefore(
  incident: Incident & Partial<Pick<IncidentWithTimeline, "timeline" | "owedDeliveries">>,
  policy: EscalationPolicy,
  k: number,
  channelId: string,
): boolean {
  if (k === 1) return false;
  // A level before fired it, and it reached PagerDuty or is still being tried: once is enough.
  // One that never got there (no routing key yet, refused, given up) is sent again.
  if (incident.owedDeliveries?.some((o) => o.channelId === channelId)) return true;
  if (incident.timeline) {
    return incident.timeline.some(
      (e) =>
        e.type === "notified" &&
        e.channel === channelId &&
        (e.outcome === undefined || e.outcome === "delivered"),
    );
  }
  if (policy.page.includes(channelId)) return true;
  const n = policy.levels.length;
  for (let earlier = 1; earlier < k; earlier++) {
    const level = policy.levels[(earlier - 1) % n]!;
    if (level.targets.some((t) => "channel" in t && t.channel === channelId)) return true;
  }
  return false;
}

/** A person a user-mode PagerDuty channel cannot assign: recorded, not sent. */
function noPagerDutyId(
  at: string,
  level: number,
  channelId: string,
  kind: Delivery["kind"],
  recipient: Recipient,
): TimelineEvent {
  return {
    at,
    type: "notified",
    level,
    channel: channelId,
    target: recipient.name,
    person: recipient.userId,
    method: "pagerduty",
    detail: `${kind}: not delivered: no PagerDuty user id (users.${recipient.userId}.pagerduty)`,
    outcome: "not_delivered",
    attempts: 0,
  };
}

/**
 * Decides step `step` of an incident's escalation at `now`: which channels to tell, whom
 * to page, and when the next step is due. Step 0 tells the route's channels; when the
 * first level is due at once (critical) it is folded into step 0, so the first Slack
 * message already mentions the primary on-call. Each level reaches its people by their own
 * contact methods and notification rules (contacts.ts), pages the policy's `page` channels
 * (a PagerDuty service once per incident, a user-mode one assigning the level's people),
 * replies in the incident's Slack threads and tells its channel targets. A person none of
 * whose methods can be used is recorded as unreachable.
 */
export function planEscalationStep(
  /** With its timeline, a PagerDuty service whose alert never got through is alerted again. */
  incident: Incident & Partial<Pick<IncidentWithTimeline, "timeline" | "owedDeliveries">>,
  step: number,
  context: EscalationContext,
): EscalationPlan {
  const { config, now, after } = context;
  const policy = incident.escalationPolicy
    ? config.escalationPolicies[incident.escalationPolicy]
    : undefined;
  const total = policy ? policy.levels.length * (policy.repeat + 1) : 0;
  const at = now.toISOString();
  const deliveries: Delivery[] = [];
  const events: TimelineEvent[] = [];
  const followers = incident.channels.filter((id) => channelKind(config, id)?.followsLevels);
  let fired = step;

  const fireLevel = (k: number, folded: boolean) => {
    const n = policy!.levels.length;
    const level = ((k - 1) % n) + 1;
    const { recipients, channels, problems } = recipientsOf(
      config,
      incident,
      policy!,
      level - 1,
      now,
    );
    const kind = k === 1 ? "trigger" : "escalate";
    const page = (channelId: string, channelKind: Delivery["kind"]) => {
      const channel = config.channels[channelId];
      if (channel?.type !== "pagerduty") {
        deliveries.push({ channelId, kind: channelKind, level, recipients });
        return;
      }
      if (channel.mode !== "user") {
        // Service mode: one alert per incident; PagerDuty's escalation policy pages people.
        if (!pagedBefore(incident, policy!, k, channelId))
          deliveries.push({ channelId, kind: channelKind, level, recipients: [] });
        return;
      }
      // User mode: the PagerDuty incident is assigned to the level's people by their ids.
      const assignable = recipients.filter((r) => r.pagerduty);
      for (const r of recipients)
        if (!r.pagerduty) events.push(noPagerDutyId(at, level, channelId, kind, r));
      if (assignable.length > 0)
        deliveries.push({ channelId, kind: channelKind, level, recipients: assignable });
    };
    for (const channelId of policy!.page) page(channelId, kind);
    for (const channelId of channels) page(channelId, "escalate");
    if (folded) {
      for (const delivery of deliveries)
        if (delivery.level === 0 && followers.includes(delivery.channelId))
          delivery.recipients = recipients;
    } else {
      for (const channelId of followers)
        deliveries.push({ channelId, kind: "escalate", level, recipients });
    }
    if (k > 1) {
      const who = recipients.map((r) => r.name).join(", ") || "nobody";
      events.push({
        at,
        type: "escalated",
        level,
        detail: `to level ${level}${k > n ? ` (repeat ${Math.floor((k - 1) / n)})` : ""}: ${who}`,
      });
    }
    for (const problem of problems)
      events.push({ at, type: "notification_failed", level, detail: problem });
    // Each person of the level by their own contact methods and rules.
    for (const recipient of recipients) {
      const own = personalDeliveries(config, recipient, level, kind);
      deliveries.push(...own.deliveries);
      if (own.unreachable)
        events.push({
          at,
          type: "unreachable",
          level,
          person: recipient.userId,
          target: recipient.name,
          detail: own.unreachable.reason,
        });
    }
  };

  if (step === 0) {
    for (const channelId of incident.channels)
      deliveries.push({ channelId, kind: "trigger", level: 0, recipients: [] });
    if (policy && levelOffset(policy, incident.delay, 1) === 0) {
      fired = 1;
      fireLevel(1, true);
    }
  } else if (policy && step <= total) {
    fireLevel(step, false);
  }

  const n = policy?.levels.length ?? 1;
  const level = fired === 0 ? 0 : ((fired - 1) % n) + 1;
  const cycle = fired === 0 ? 0 : Math.floor((fired - 1) / n);
  if (!policy || fired >= total) {
    if (policy && fired >= total) {
      events.push({
        at,
        type: "exhausted",
        level,
        detail: "the policy's last level is reached: nobody else to escalate to",
      });
    }
    return { step, level, reached: fired, cycle, deliveries, events, next: null };
  }
  const due = dueTime(incident, policy, fired + 1, after);
  const waitSeconds = Math.max(0, Math.ceil((due - now.getTime()) / 1000));
  return {
    step,
    level,
    reached: fired,
    cycle,
    deliveries,
    events,
    next: {
      step: fired + 1,
      waitSeconds,
      dueAt: new Date(Math.max(due, now.getTime())).toISOString(),
    },
  };
}

/**
 * Where a snoozed escalation resumes: the level it had reached (the first level if none
 * had fired yet), re-fired at `now`, with later levels spaced as the policy spaces them
 * from there. Returns the step and the new base that delays count from.
 */
export function resumeAfterSnooze(
  incident: Incident,
  reached: number,
  context: EscalationContext,
): { step: number; baseAt: string } | null {
  const policy = incident.escalationPolicy
    ? context.config.escalationPolicies[incident.escalationPolicy]
    : undefined;
  if (!policy) return null;
  const step = Math.max(reached, 1);
  const baseAt = context.after(context.now, -levelOffset(policy, incident.delay, step));
  return { step, baseAt: baseAt.toISOString() };
}

/**
 * When an incident's escalation is over at the latest (the policy's end): its last step's
 * time, counted from the end of a snooze still set as the resume would count it, plus the
 * time a failed page of that step is tried again before it is given up. An escalation whose
 * step keeps failing tries it again until then, and no longer.
 */
export function escalationEndsAt(
  incident: Incident,
  context: Omit<EscalationContext, "now">,
): Date {
  const policy = incident.escalationPolicy
    ? context.config.escalationPolicies[incident.escalationPolicy]
    : undefined;
  const steps = policy ? policy.levels.length * (policy.repeat + 1) : 0;
  const lastDue = (from: Incident) =>
    stepDueAt(from, steps, context) ?? stepDueAt(from, 0, context)!;
  let last = lastDue(incident);
  if (incident.snoozedUntil) {
    const resume = resumeAfterSnooze(incident, incident.escalationStep, {
      ...context,
      now: new Date(incident.snoozedUntil),
    });
    if (resume) last = Math.max(last, lastDue({ ...incident, escalationBaseAt: resume.baseAt }));
  }
  return context.after(new Date(last), LATER_ATTEMPTS.giveUpAfterMs / 1000);
}

/**
 * Where the escalation of an incident picks up when the engine that ran it was lost (the
 * local server restarted; Step Functions keeps its executions): null when it has nothing
 * left to do. A snoozed incident resumes when its snooze ends (at once if it has ended),
 * as the snooze would have resumed it. Any other walks its steps again from the first: a
 * step already taken is claimed, so it is skipped without paging anyone twice, while what
 * a claimed step still owes (the process died between the claim and the send) is sent by
 * the first run; a step that fell due while nothing ran fires at once; later ones wait.
 */
export function resumeAfterRestart(
  incident: Incident,
  now: Date,
): { step: number; dueAt: string } | null {
  if (incident.status !== "triggered") return null;
  if (!escalates(incident)) return null;
  // Still set: the snooze has not resumed the escalation yet (it may have ended meanwhile).
  if (incident.snoozedUntil) {
    const dueAt = new Date(Math.max(Date.parse(incident.snoozedUntil), now.getTime()));
    return { step: Math.max(incident.escalationStep, 1), dueAt: dueAt.toISOString() };
  }
  return { step: 0, dueAt: now.toISOString() };
}

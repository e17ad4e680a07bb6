import * as z from "zod/mini";
import { issuePath, validate } from "../../core/validation.js";

/**
 * A PagerDuty v3 webhook payload (https://developer.pagerduty.com/docs/webhooks/v3-overview/):
 * one `event` per delivery, `event.data` an incident for `incident.*` types. Only the fields
 * tocsin reads are checked; everything else is ignored.
 */
const text = z.string().check(z.minLength(1));
const reference = z.object({ id: text, summary: z.optional(z.nullable(z.string())) });
const envelope = z.object({
  event: z.object({
    id: text,
    event_type: text,
    resource_type: z.optional(z.string()),
    occurred_at: z.iso.datetime({ offset: true }),
    agent: z.optional(z.nullable(reference)),
    data: z.unknown(),
  }),
});
const incidentData = z.object({
  id: text,
  type: z.literal("incident"),
  incident_key: z.optional(z.nullable(z.string())),
  status: z.optional(z.string()),
  html_url: z.optional(z.nullable(z.string())),
  /** Why it resolved: `merge_resolve_reason` when merged into `incident` (its problem lives on there). */
  resolve_reason: z.optional(
    z.nullable(
      z.object({
        type: z.string(),
        incident: z.optional(z.nullable(reference)),
      }),
    ),
  ),
});

/** The event types that act on a tocsin incident. */
export const HANDLED_TYPES = {
  "incident.acknowledged": "acknowledge",
  "incident.resolved": "resolve",
} as const;

/** A webhook as tocsin understands it: what to do, who did it, which PagerDuty incident. */
export type PagerDutyWebhookEvent =
  | {
      kind: "acknowledge" | "resolve";
      eventId: string;
      occurredAt: string;
      /** Who acted in PagerDuty; null for automation (an auto-resolve, a rule). */
      agent: { id: string; summary: string | null } | null;
      incident: { id: string; incidentKey: string | null; htmlUrl: string | null };
      /**
       * An incident.resolved that is a merge: the PagerDuty incident this one was merged
       * into. Its alert still fires, so tocsin takes it as an acknowledgement, not a resolve.
       */
      mergedInto?: string | undefined;
    }
  /** Any other event type: answered, not acted on. */
  | { kind: "ignored"; eventId: string; occurredAt: string; type: string };

export type ParsedWebhook =
  | { ok: true; event: PagerDutyWebhookEvent }
  | { ok: false; message: string };

/** Reads a v3 payload into a PagerDutyWebhookEvent, or says which field was wrong. */
export function parsePagerDutyWebhook(body: unknown): ParsedWebhook {
  const parsed = validate(envelope, body);
  if (!parsed.success) return failure(parsed.error.issues[0]!);
  const { event } = parsed.data;
  const occurredAt = new Date(event.occurred_at).toISOString();
  const kind = Object.hasOwn(HANDLED_TYPES, event.event_type)
    ? HANDLED_TYPES[event.event_type as keyof typeof HANDLED_TYPES]
    : undefined;
  if (!kind)
    return {
      ok: true,
      event: { kind: "ignored", eventId: event.id, occurredAt, type: event.event_type },
    };
  const data = validate(incidentData, event.data);
  if (!data.success) {
    const issue = data.error.issues[0]!;
    return failure({ ...issue, path: ["event", "data", ...issue.path] });
  }
  const reason = data.data.resolve_reason;
  const merged = kind === "resolve" && reason?.type === "merge_resolve_reason";
  return {
    ok: true,
    event: {
      kind: merged ? "acknowledge" : kind,
      ...(merged ? { mergedInto: reason.incident?.id ?? "another incident" } : {}),
      eventId: event.id,
      occurredAt,
      agent: event.agent ? { id: event.agent.id, summary: event.agent.summary ?? null } : null,
      incident: {
        id: data.data.id,
        incidentKey: data.data.incident_key ?? null,
        htmlUrl: data.data.html_url ?? null,
      },
    },
  };
}

function failure(issue: { path: readonly PropertyKey[]; message: string }): ParsedWebhook {
  return { ok: false, message: `${issuePath(issue.path)}: ${issue.message}` };
}

/**
 * PagerDuty retries a delivery for up to 48 hours (webhooks/02-Behavior), and signs no
 * timestamp: the signed `occurred_at` bounds a delivery's age instead. Older than this, or
 * further ahead than the clock skew allowed, a delivery is stale.
 */
export const WEBHOOK_MAX_AGE_SECONDS = 48 * 3600 + 300;
export const WEBHOOK_MAX_SKEW_SECONDS = 300;
/** How long a delivery's event id is remembered: past the oldest a delivery may be. */
export const WEBHOOK_REPLAY_SECONDS = 49 * 3600;

/** Whether a delivery whose event occurred at `occurredAt` may still be acted on at `now`. */
export function freshWebhook(occurredAt: string, now: Date): boolean {
  const age = (now.getTime() - Date.parse(occurredAt)) / 1000;
  return age <= WEBHOOK_MAX_AGE_SECONDS && age >= -WEBHOOK_MAX_SKEW_SECONDS;
}

import type { Logger } from "@aws-lambda-powertools/logger";
import type { ChannelConfig } from "../../core/config.js";
import type { Incident } from "../../core/incident.js";
import type {
  DeliveryOutcome,
  DeliveryStatus,
  Notification,
  Recipient,
} from "../../core/notification.js";
import { describeError, NOT_DELIVERED_NO_CREDENTIALS } from "../../delivery/outcomes.js";
import { explainRestError, type PagerDutyRest, type RestAnswer, restError } from "./rest.js";
import { PagerDutyUnreachableError } from "./transport.js";

type UserModeChannel = Extract<ChannelConfig, { type: "pagerduty" }>;

/** A PagerDuty incident as the REST API answers it: the parts read here. */
interface RestIncident {
  id: string;
  status?: string;
  assignments?: Array<{ assignee?: { id?: string } }>;
}

/** The answer could not be used: the outcome says why (retryable or not). */
class Refused extends Error {
  constructor(readonly outcome: DeliveryOutcome) {
    super(outcome.detail);
  }
}

/** PagerDuty's "already in that state" codes (REST-API/14-Errors): a mirror that is done. */
const ALREADY = { 1001: "already resolved", 1002: "already acknowledged" } as const;
/** Creation refusals a lookup by incident_key cannot cure: no user with that id or email. */
const NOT_A_DUPLICATE = new Set([1007, 1008]);
const TITLE_LIMIT = 1024;
const DETAILS_LIMIT = 8_000;

export interface UserModeOptions {
  /**
   * The REST client acting as the PagerDuty user with that email (the channel's `from`);
   * unset, or undefined for want of a token or a From: the channel is not delivered.
   */
  rest?: ((from: string | undefined) => PagerDutyRest | undefined) | undefined;
  /** A link back to the incident in tocsin, put in the PagerDuty incident's details. */
  incidentUrl?: ((incident: Incident) => string | undefined) | undefined;
  logger?: Pick<Logger, "warn"> | undefined;
}

/**
 * PagerDuty user mode (README "PagerDuty"): the PagerDuty incident is assigned to the very
 * people each level names, by their PagerDuty user ids, so that PagerDuty's apps ring them.
 * The first level opens it (`POST /incidents` with one assignee, as the creation API takes
 * only one, then a `PUT` with all of the level's); later levels reassign it (`PUT
 * /incidents/{id}` assignments: PagerDuty notifies the new assignees by their own rules);
 * acknowledge and resolve are mirrored by `PUT` status. A create refused as a duplicate
 * (its incident_key, the tocsin id, is open on the service: an earlier attempt got through)
 * is found by `GET /incidents?incident_key=` and used. Each call is one request: 429 (wait
 * `ratelimit-reset`), 408, 5xx and no answer are retryable; any other refusal is final,
 * with PagerDuty's own words (never the token) in the detail.
 */
export class PagerDutyUserMode {
  constructor(private readonly options: UserModeOptions) {}

  async send(notification: Notification, channel: UserModeChannel): Promise<DeliveryOutcome> {
    const rest = this.options.rest?.(channel.from);
    if (!rest || !channel.service) return { ...NOT_DELIVERED_NO_CREDENTIALS };
    try {
      if (notification.kind === "acknowledge" || notification.kind === "resolve") {
        return await this.mirror(rest, notification, channel.service);
      }
      return await this.assign(rest, notification, channel.service);
    } catch (error) {
      if (error instanceof Refused) return error.outcome;
      if (error instanceof PagerDutyUnreachableError) {
        this.options.logger?.warn("PagerDuty unreachable", { reason: error.message });
        return {
          status: "failed",
          retryable: true,
          detail: `PagerDuty unreachable: ${error.message}`,
        };
      }
      return { status: "failed", detail: `PagerDuty request not sent: ${describeError(error)}` };
    }
  }

  /** trigger/escalate: open or reassign the PagerDuty incident to the level's people. */
  private async assign(
    rest: PagerDutyRest,
    notification: Notification,
    service: string,
  ): Promise<DeliveryOutcome> {
    const people = notification.recipients.filter((r) => r.pagerduty);
    const missing = notification.recipients.filter((r) => !r.pagerduty);
    if (people.length === 0) {
      return {
        status: "not_delivered",
        detail: `no PagerDuty user id for ${names(missing) || "anyone at this level"}`,
        perPerson: missing.map(noUserId),
      };
    }
    const ids = people.map((p) => p.pagerduty!);
    let incident: RestIncident;
    let opened = false;
    if (notification.pagerDutyIncident) {
      // Reassigning re-triggers a PagerDuty incident: one acknowledged (or resolved) there,
      // whose webhook has not reached tocsin yet, must not be undone by the next level.
      const current = await this.read(rest, notification.pagerDutyIncident);
      if (current.status !== undefined && current.status !== "triggered")
        return actedInPagerDuty(current, people);
      incident = await this.reassign(rest, notification.pagerDutyIncident, ids);
    } else {
      const created = await this.create(rest, notification, service, ids[0]!);
      opened = created.opened;
      if (
        !opened &&
        created.incident.status !== undefined &&
        created.incident.status !== "triggered"
      )
        return actedInPagerDuty(created.incident, people);
      incident = sameAssignees(created.incident, ids)
        ? created.incident
        : await this.reassign(rest, created.incident.id, ids);
    }
    const what = opened ? `opened on service ${service} and assigned` : "assigned";
    return {
      status: "delivered",
      detail: `PagerDuty incident ${incident.id} ${what} to ${people.map(named).join(", ")}${
        missing.length ? `; no PagerDuty user id for ${names(missing)}` : ""
      }`,
      providerId: incident.id,
      pagerDutyIncident: incident.id,
      perPerson: [
        ...people.map((p) => ({
          userId: p.userId,
          status: "delivered" as DeliveryStatus,
          detail: `PagerDuty incident ${incident.id} assigned to ${named(p)}`,
        })),
        ...missing.map(noUserId),
      ],
    };
  }

  /** POST /incidents with one assignee; a duplicate's 400 finds the open incident instead. */
  private async create(
    rest: PagerDutyRest,
    notification: Notification,
    service: string,
    assignee: string,
  ): Promise<{ incident: RestIncident; opened: boolean }> {
    const { incident } = notification;
    const answer = await rest.request("POST", "/incidents", {
      incident: {
        type: "incident",
        title: truncate(incident.title, TITLE_LIMIT),
        service: { id: service, type: "service_reference" },
        urgency: incident.severity === "critical" ? "high" : "low",
        incident_key: incident.id,
        body: { type: "incident_body", details: this.details(notification) },
        assignments: [{ assignee: { id: assignee, type: "user_reference" } }],
      },
    });
    if (answer.status === 201 || answer.status === 200) {
      return { incident: incidentOf(answer, "open the PagerDuty incident"), opened: true };
    }
    const code = restError(answer)?.code;
    if (answer.status === 400 && !(code !== undefined && NOT_A_DUPLICATE.has(code))) {
      const open = await this.find(rest, incident.id, service, ["triggered", "acknowledged"]);
      if (open) return { incident: open, opened: false };
    }
    throw new Refused(refusal(answer, "open the PagerDuty incident"));
  }

  /** GET /incidents/{id}: its status now. */
  private async read(rest: PagerDutyRest, id: string): Promise<RestIncident> {
    const answer = await rest.request("GET", `/incidents/${encodeURIComponent(id)}`);
    if (answer.status !== 200) throw new Refused(refusal(answer, `read PagerDuty incident ${id}`));
    return incidentOf(answer, `read PagerDuty incident ${id}`);
  }

  /** PUT /incidents/{id} with the level's people as the assignees. */
  private async reassign(rest: PagerDutyRest, id: string, ids: string[]): Promise<RestIncident> {
    const answer = await rest.request("PUT", `/incidents/${encodeURIComponent(id)}`, {
      incident: {
        type: "incident_reference",
        assignments: ids.map((userId) => ({ assignee: { id: userId, type: "user_reference" } })),
      },
    });
    if (answer.status !== 200) {
      throw new Refused(refusal(answer, `assign PagerDuty incident ${id}`));
    }
    return incidentOf(answer, `assign PagerDuty incident ${id}`);
  }

  /** acknowledge/resolve: PUT the status; "already so" is done. */
  private async mirror(
    rest: PagerDutyRest,
    notification: Notification,
    service: string,
  ): Promise<DeliveryOutcome> {
    const status = notification.kind === "acknowledge" ? "acknowledged" : "resolved";
    const id =
      notification.pagerDutyIncident ??
      (await this.find(rest, notification.incident.id, service, []))?.id;
    if (!id) {
      return {
        status: "not_delivered",
        detail: `no PagerDuty incident for ${notification.incident.id} on service ${service}: nothing to mark ${status}`,
      };
    }
    const answer = await rest.request("PUT", `/incidents/${encodeURIComponent(id)}`, {
      incident: { type: "incident_reference", status },
    });
    const code = restError(answer)?.code;
    if (answer.status === 200) {
      return { status: "delivered", detail: `PagerDuty incident ${id} ${status}`, providerId: id };
    }
    if (answer.status === 400 && (code === 1001 || code === 1002)) {
      return {
        status: "delivered",
        detail: `PagerDuty incident ${id} was ${ALREADY[code]}`,
        providerId: id,
      };
    }
    return refusal(answer, `mark PagerDuty incident ${id} ${status}`);
  }

  /** GET /incidents?incident_key=…: the newest incident of that key on the service, if any. */
  private async find(
    rest: PagerDutyRest,
    incidentKey: string,
    service: string,
    statuses: string[],
  ): Promise<RestIncident | undefined> {
    const answer = await rest.request("GET", "/incidents", {
      incident_key: incidentKey,
      "service_ids[]": [service],
      ...(statuses.length ? { "statuses[]": statuses } : {}),
    });
    if (answer.status !== 200) {
      throw new Refused(refusal(answer, `look up the PagerDuty incident of ${incidentKey}`));
    }
    const incidents = (answer.body as { incidents?: unknown } | undefined)?.incidents;
    if (!Array.isArray(incidents)) return undefined;
    const found = incidents.filter(
      (i): i is RestIncident => typeof (i as RestIncident | null)?.id === "string",
    );
    return found.at(-1);
  }

  /** The PagerDuty incident's body: only a string is taken (Incident Creation API). */
  private details(notification: Notification): string {
    const { incident, runbook } = notification;
    const url = this.options.incidentUrl?.(incident);
    const lines = [
      `${incident.severity.toUpperCase()} · team ${incident.team} · tocsin incident ${incident.id}`,
      ...(incident.annotations.description ? [incident.annotations.description] : []),
      ...(url ? [`In tocsin: ${url}`] : []),
      ...(runbook
        ? [`Runbook: ${runbook.name} ${runbook.url}`, ...runbook.diagnosis.slice(0, 3)]
        : []),
      `Labels: ${Object.entries(incident.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}`,
    ];
    return truncate(lines.join("\n"), DETAILS_LIMIT);
  }
}

/** The outcome of an answer that did not do what was asked. */
function refusal(answer: RestAnswer, what: string): DeliveryOutcome {
  const detail = `PagerDuty answered ${answer.status} to ${what}${
    answer.status === 429 && !restError(answer)
      ? ` (rate limited${answer.retryAfterSeconds === undefined ? "" : `, ratelimit-reset ${answer.retryAfterSeconds} s`})`
      : explainRestError(answer)
  }`;
  const retryable = answer.status === 429 || answer.status === 408 || answer.status >= 500;
  if (!retryable) return { status: "failed", detail };
  return {
    status: "failed",
    retryable: true,
    detail,
    ...(answer.status === 429 && answer.retryAfterSeconds !== undefined
      ? { retryAfterMs: answer.retryAfterSeconds * 1000 }
      : {}),
  };
}

function incidentOf(answer: RestAnswer, what: string): RestIncident {
  const incident = (answer.body as { incident?: unknown } | undefined)?.incident as
    | RestIncident
    | undefined;
  if (typeof incident?.id !== "string") {
    throw new Refused({
      status: "failed",
      retryable: true,
      detail: `PagerDuty answered ${answer.status} to ${what} without an incident`,
    });
  }
  return incident;
}

function sameAssignees(incident: RestIncident, ids: string[]): boolean {
  const current = new Set((incident.assignments ?? []).map((a) => a.assignee?.id));
  return current.size === ids.length && ids.every((id) => current.has(id));
}

const named = (person: Recipient) => `${person.name} (${person.pagerduty})`;
const names = (people: Recipient[]) => people.map((p) => `${p.name} (${p.userId})`).join(", ");
const noUserId = (person: Recipient) => ({
  userId: person.userId,
  status: "not_delivered" as DeliveryStatus,
  detail: "no PagerDuty user id",
});

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/**
 * A level not sent to PagerDuty because someone acknowledged (or resolved) its incident there
 * first: reassigning would re-trigger it and page the next person. PagerDuty's webhook brings
 * that acknowledgement to tocsin, which then stops the escalation.
 */
function actedInPagerDuty(
  incident: RestIncident,
  people: ReadonlyArray<{ userId: string; name: string }>,
): DeliveryOutcome {
  const detail = `PagerDuty incident ${incident.id} is ${incident.status} in PagerDuty: not reassigned (that would trigger it again)`;
  return {
    status: "not_delivered",
    detail,
    providerId: incident.id,
    pagerDutyIncident: incident.id,
    perPerson: people.map((p) => ({ userId: p.userId, status: "not_delivered", detail })),
  };
}

import type { Logger } from "@aws-lambda-powertools/logger";
import middy from "@middy/core";
import type { SecretSource } from "../adapters/http/auth.js";
import { csvResponse } from "../adapters/http/csv.js";
import { errorResponses } from "../adapters/http/http-errors.js";
import { requestLog } from "../adapters/http/request-log.js";
import { requireTokenOrSession } from "../adapters/http/session.js";
import type { TokenThrottle } from "../adapters/http/token-throttle.js";
import { type HttpEvent, type HttpResult, json } from "../adapters/http/types.js";
import { SEVERITIES } from "../core/alert.js";
import { IncidentNotFoundError, InvalidParameterError } from "../core/errors.js";
import type { Incident, IncidentWithTimeline } from "../core/incident.js";
import { INCIDENT_STATUSES } from "../core/incident.js";
import { incidentIdParameter } from "../core/incident-id.js";
import type { IncidentQuery, IncidentStore } from "../core/incident-store.js";
import type { RunbookDetails } from "../core/notification.js";
import { incidentsCsv, timelineCsv } from "./incident-csv.js";

export interface ReadApiDeps {
  logger: Logger;
  store: IncidentStore;
  apiToken: SecretSource;
  /** The clock (sessions expire, reports default to the last 30 days); the system's if absent. */
  now?: () => Date;
  /** An incident's runbook filled in with its labels, for the incident page. */
  runbookFor?: (incident: Incident) => RunbookDetails | null;
  /** Back-off for wrong API tokens, shared by every read route (readApi makes one). */
  throttle?: TokenThrottle;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
/** A CSV export follows the cursor itself, up to this many rows (then `x-next-cursor`). */
export const MAX_CSV_ROWS = 10_000;
/** Escalation levels a filter may name; policies have a handful. */
export const MAX_LEVEL = 99;

export const FORMATS = ["json", "csv"] as const;
export type Format = (typeof FORMATS)[number];

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InvalidParameterError(name, `must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

export function time(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new InvalidParameterError(name, "must be an ISO-8601 time such as 2026-11-30T09:00:00Z");
  }
  return parsed.toISOString();
}

function wholeNumber(name: string, value: string | undefined, min: number, max: number) {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidParameterError(name, `must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** `format`: json (the default) or csv. */
export function parseFormat(params: Record<string, string | undefined>): Format {
  return oneOf("format", params.format, FORMATS) ?? "json";
}

/**
 * Validates the list filters; each bad parameter is a 400 that names it. `level` is the
 * highest escalation level reached, exactly (0: never escalated); `minLevel` at least.
 * A CSV export may ask for up to MAX_CSV_ROWS rows (its default), a JSON page up to 500.
 */
export function parseIncidentQuery(
  params: Record<string, string | undefined>,
  format: Format = "json",
): IncidentQuery {
  const since = time("since", params.since);
  const until = time("until", params.until);
  if (since && until && since > until)
    throw new InvalidParameterError("since", "must not be after until");
  const maxLimit = format === "csv" ? MAX_CSV_ROWS : MAX_PAGE_SIZE;
  const limit =
    wholeNumber("limit", params.limit, 1, maxLimit) ??
    (format === "csv" ? MAX_CSV_ROWS : DEFAULT_PAGE_SIZE);
  const level = wholeNumber("level", params.level, 0, MAX_LEVEL);
  const minLevel = wholeNumber("minLevel", params.minLevel, 0, MAX_LEVEL);
  if (params.team !== undefined && !/^[a-z0-9][a-z0-9_.-]{0,127}$/.test(params.team)) {
    throw new InvalidParameterError("team", "is not a team name (at most 128 characters)");
  }
  return {
    status: oneOf("status", params.status, INCIDENT_STATUSES),
    severity: oneOf("severity", params.severity, SEVERITIES),
    team: params.team,
    level,
    minLevel,
    since,
    until,
    limit,
    cursor: params.cursor,
  };
}

export const clockOf = (deps: ReadApiDeps) => deps.now ?? (() => new Date());

/** A read route: logged, errors as JSON, the API token (header or signed-in cookie) required. */
export function readHandler(deps: ReadApiDeps, handle: (event: HttpEvent) => Promise<HttpResult>) {
  return middy<HttpEvent, HttpResult>()
    .use(requestLog(deps.logger, "api"))
    .use(errorResponses(deps.logger))
    .use(requireTokenOrSession(deps.apiToken, clockOf(deps), deps.throttle))
    .handler(handle);
}

/**
 * Every incident the query matches, up to `query.limit`, following the cursor page by page
 * (each page one Query plus one BatchGet); the cursor left over, if any.
 */
export async function collectIncidents(store: IncidentStore, query: IncidentQuery) {
  const incidents: Incident[] = [];
  let cursor = query.cursor;
  do {
    const page = await store.list({
      ...query,
      cursor,
      limit: Math.min(MAX_PAGE_SIZE, query.limit - incidents.length),
    });
    incidents.push(...page.incidents);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && incidents.length < query.limit);
  return { incidents, nextCursor: cursor ?? null };
}

/** GET /incidents: newest first, filtered, one page per call; `format=csv` exports them all. */
export function listIncidents(deps: ReadApiDeps) {
  return readHandler(deps, async (event) => {
    const params = event.queryStringParameters ?? {};
    const format = parseFormat(params);
    const query = parseIncidentQuery(params, format);
    if (format === "json") return json(200, await deps.store.list(query));
    const { incidents, nextCursor } = await collectIncidents(deps.store, query);
    const day = clockOf(deps)().toISOString().slice(0, 10);
    return csvResponse(
      `tocsin-incidents-${day}.csv`,
      incidentsCsv(incidents),
      nextCursor ? { "x-next-cursor": nextCursor } : {},
    );
  });
}

/** GET /incidents/{id}: the incident with its timeline, oldest event first; or the timeline as CSV. */
export function getIncident(deps: ReadApiDeps) {
  return readHandler(deps, async (event) => {
    const format = parseFormat(event.queryStringParameters ?? {});
    const id = incidentIdParameter("id", event.pathParameters?.id);
    event.incidentIds = [id];
    const incident = await deps.store.get(id);
    if (!incident) throw new IncidentNotFoundError(id);
    if (format === "csv") {
      return csvResponse(`tocsin-incident-${id}-timeline.csv`, timelineCsv(incident));
    }
    return json(200, withPhonesMasked(incident));
  });
}

/** A phone number with all but its last four digits hidden (no phone library in this bundle). */
const lastFourOnly = (phone: string) => {
  const digits = phone.replace(/\D/g, "");
  return `+${"•".repeat(Math.max(0, digits.length - 4))}${digits.slice(-4)}`;
};

/**
 * The incident as the API shows it: the phone numbers of its owed texts and calls masked,
 * as they are on the timeline and in every log line (the API is read by more than the paged).
 */
function withPhonesMasked(incident: IncidentWithTimeline): IncidentWithTimeline {
  if (
    !incident.owedDeliveries?.some(
      (o) => o.contact?.method === "sms" || o.contact?.method === "voice",
    )
  )
    return incident;
  return {
    ...incident,
    owedDeliveries: incident.owedDeliveries.map((o) =>
      o.contact && (o.contact.method === "sms" || o.contact.method === "voice")
        ? { ...o, contact: { ...o.contact, address: lastFourOnly(o.contact.address) } }
        : o,
    ),
  };
}

/** GET /healthz: no auth, no dependencies. */
export function health() {
  return async (): Promise<HttpResult> => json(200, { status: "ok" });
}

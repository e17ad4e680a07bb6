import type { Logger } from "@aws-lambda-powertools/logger";
import middy from "@middy/core";
import { requireToken, type SecretSource } from "../adapters/http/auth.js";
import { errorResponses } from "../adapters/http/http-errors.js";
import { requestLog } from "../adapters/http/request-log.js";
import { type HttpEvent, type HttpResult, json } from "../adapters/http/types.js";
import { SEVERITIES } from "../core/alert.js";
import { IncidentNotFoundError, InvalidParameterError } from "../core/errors.js";
import { INCIDENT_STATUSES } from "../core/incident.js";
import type { IncidentQuery, IncidentStore } from "../core/incident-store.js";

export interface ReadApiDeps {
  logger: Logger;
  store: IncidentStore;
  apiToken: SecretSource;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

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

function time(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new InvalidParameterError(name, "must be an ISO-8601 time such as 2026-11-30T09:00:00Z");
  }
  return parsed.toISOString();
}

/** Validates the list filters; each bad parameter is a 400 that names it. */
export function parseIncidentQuery(params: Record<string, string | undefined>): IncidentQuery {
  const since = time("since", params.since);
  const until = time("until", params.until);
  if (since && until && since > until)
    throw new InvalidParameterError("since", "must not be after until");
  let limit = DEFAULT_PAGE_SIZE;
  if (params.limit !== undefined) {
    limit = Number(params.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new InvalidParameterError("limit", `must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
    }
  }
  if (params.team !== undefined && !/^[a-z0-9][a-z0-9_.-]*$/.test(params.team)) {
    throw new InvalidParameterError("team", "is not a team name");
  }
  return {
    status: oneOf("status", params.status, INCIDENT_STATUSES),
    severity: oneOf("severity", params.severity, SEVERITIES),
    team: params.team,
    since,
    until,
    limit,
    cursor: params.cursor,
  };
}

function readHandler(deps: ReadApiDeps, handle: (event: HttpEvent) => Promise<HttpResult>) {
  return middy<HttpEvent, HttpResult>()
    .use(requestLog(deps.logger))
    .use(errorResponses(deps.logger))
    .use(requireToken(deps.apiToken))
    .handler(handle);
}

/** GET /incidents: newest first, filtered, one page per call. */
export function listIncidents(deps: ReadApiDeps) {
  return readHandler(deps, async (event) => {
    const query = parseIncidentQuery(event.queryStringParameters ?? {});
    const page = await deps.store.list(query);
    return json(200, page);
  });
}

/** GET /incidents/{id}: the incident with its timeline, oldest event first. */
export function getIncident(deps: ReadApiDeps) {
  return readHandler(deps, async (event) => {
    const id = event.pathParameters?.id ?? "";
    const incident = await deps.store.get(id);
    if (!incident) throw new IncidentNotFoundError(id);
    return json(200, incident);
  });
}

/** GET /healthz: no auth, no dependencies. */
export function health() {
  return async (): Promise<HttpResult> => json(200, { status: "ok" });
}

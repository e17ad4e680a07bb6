import type { Logger } from "@aws-lambda-powertools/logger";
import type { HttpMiddleware } from "./types.js";

/** Who sends a route's requests: a webhook sender, Slack, PagerDuty, API clients or people's browsers. */
export type RequestSource = "alertmanager" | "grafana" | "slack" | "pagerduty" | "api" | "browser";

/**
 * One structured log line per request: `event: "http_request"`, its source, method, route,
 * path, status, duration, and the incidents it read or changed (`incidentId`, or
 * `incidentIds` when several), which the handler sets on the event. Powertools adds the
 * timestamp and level. Never the body or headers: they carry tokens and whole payloads.
 */
export function requestLog(
  logger: Logger,
  source: RequestSource,
  clock: () => number = performance.now.bind(performance),
): HttpMiddleware {
  const started = new WeakMap<object, number>();
  const write = (request: Parameters<NonNullable<HttpMiddleware["after"]>>[0]) => {
    const { event, response } = request;
    const ids = event.incidentIds ?? [];
    logger.info("request", {
      event: "http_request",
      source,
      method: event.requestContext.http.method,
      route: event.routeKey,
      path: event.rawPath,
      status: response?.statusCode,
      durationMs: Math.round((clock() - (started.get(event) ?? clock())) * 10) / 10,
      ...(ids.length === 1 ? { incidentId: ids[0] } : {}),
      ...(ids.length > 1 ? { incidentIds: ids } : {}),
    });
  };
  return {
    before: async ({ event }) => {
      started.set(event, clock());
    },
    after: async (request) => write(request),
    onError: async (request) => {
      // errorResponses (registered after this one) has set the response by now.
      if (request.response) write(request);
    },
  };
}

import type { Context } from "aws-lambda";
import { TokenThrottle } from "../adapters/http/token-throttle.js";
import type { HttpEvent, HttpResult } from "../adapters/http/types.js";
import { json } from "../adapters/http/types.js";
import { historyPage, login, logout } from "../pages/history-page.js";
import { getIncident, health, listIncidents, type ReadApiDeps } from "./incidents.js";
import { escalationReportRoute } from "./reports.js";

type Handler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/** One function for the read routes (API and history page), dispatching on API Gateway's route key. */
export function readApi(readDeps: ReadApiDeps): Handler {
  // One back-off for wrong API tokens across the API, the page and its sign-in form.
  const deps = { ...readDeps, throttle: readDeps.throttle ?? new TokenThrottle() };
  const byRoute: Record<string, Handler> = {
    "GET /incidents": listIncidents(deps),
    "GET /incidents/{id}": getIncident(deps),
    "GET /reports/escalations": escalationReportRoute(deps),
    "GET /": historyPage(deps),
    "POST /login": login(deps),
    "POST /logout": logout(deps),
    "GET /healthz": health(),
  };
  return async (event, context) => {
    const handler = byRoute[event.routeKey];
    return handler
      ? handler(event, context)
      : json(404, { error: "not_found", message: `no route ${event.routeKey}` });
  };
}

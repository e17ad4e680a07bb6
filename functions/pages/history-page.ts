import middy from "@middy/core";
import { rawBody } from "../adapters/http/body.js";
import { HttpError, RETRY_LATER, unavailableMessage } from "../adapters/http/http-errors.js";
import { requestLog } from "../adapters/http/request-log.js";
import {
  authentication,
  checkPresentedToken,
  clearedSessionCookie,
  sessionCookie,
} from "../adapters/http/session.js";
import type { HttpEvent, HttpMiddleware, HttpResult } from "../adapters/http/types.js";
import { clockOf, parseIncidentQuery, type ReadApiDeps } from "../api/incidents.js";
import { buildReport, parseReportRange } from "../api/reports.js";
import {
  DependencyUnavailableError,
  IncidentNotFoundError,
  InvalidParameterError,
} from "../core/errors.js";
import { incidentIdParameter } from "../core/incident-id.js";
import { htmlResponse, newNonce, type SafeHtml } from "./html.js";
import { incidentView } from "./incident-view.js";
import { apiParams, listView, pageFilters } from "./list-view.js";
import { layout, problemPage, signInPage } from "./page-layout.js";
import { reportView } from "./report-view.js";

/** The sign-in form answers with 401, like the API, and says how to authenticate. */
const SIGN_IN_HEADERS = { "www-authenticate": 'Bearer realm="tocsin"' };

/** Errors as pages, not JSON: a person is reading. Details only below 500. */
function pageErrors(deps: ReadApiDeps): HttpMiddleware {
  return {
    onError: async (request) => {
      const nonce = newNonce();
      const error = request.error;
      let status = 500;
      let headers: Record<string, string> = {};
      let page: SafeHtml;
      if (error instanceof HttpError && error.statusCode < 500) {
        status = error.statusCode;
        headers = error.headers;
        page = problemPage(
          nonce,
          status === 429 ? "Too many attempts" : "Bad request",
          error.message,
        );
      } else if (error instanceof InvalidParameterError) {
        status = 400;
        page = problemPage(nonce, "Bad request", error.message);
      } else if (error instanceof IncidentNotFoundError) {
        status = 404;
        page = problemPage(nonce, "Not found", error.message);
      } else if (error instanceof DependencyUnavailableError) {
        deps.logger.error("page failed", { path: request.event.rawPath, error });
        status = 503;
        headers = RETRY_LATER;
        page = problemPage(nonce, "Unavailable", unavailableMessage(error));
      } else {
        deps.logger.error("page failed", { path: request.event.rawPath, error });
        page = problemPage(nonce, "Something went wrong", "tocsin could not answer; try again.");
      }
      request.response = htmlResponse(status, page, nonce, headers);
    },
  };
}

function pageHandler(deps: ReadApiDeps, handle: (event: HttpEvent) => Promise<HttpResult>) {
  return middy<HttpEvent, HttpResult>()
    .use(requestLog(deps.logger, "browser"))
    .use(pageErrors(deps))
    .handler(handle);
}

const page = (nonce: string, title: string, body: SafeHtml, status = 200) =>
  htmlResponse(status, layout({ title, nonce, body, signedIn: true }), nonce);

/**
 * GET /: the escalation history for managers. Without the token (header or session
 * cookie) it is the sign-in form; with it, the incident list (`?` filters), one incident
 * (`?incident=<id>`) or the report (`?view=report&since=&until=`).
 */
export function historyPage(deps: ReadApiDeps) {
  return pageHandler(deps, async (event) => {
    const nonce = newNonce();
    const auth = await authentication(event, deps.apiToken, clockOf(deps)(), deps.throttle);
    if (auth !== "token" && auth !== "session") {
      return htmlResponse(401, signInPage(nonce), nonce, SIGN_IN_HEADERS);
    }
    const params = event.queryStringParameters ?? {};
    if (params.incident) {
      const id = incidentIdParameter("incident", params.incident);
      const incident = await deps.store.get(id);
      if (!incident) throw new IncidentNotFoundError(id);
      return page(nonce, incident.title, incidentView(incident, deps.runbookFor?.(incident)));
    }
    if (params.view === "report") {
      const range = parseReportRange(params, clockOf(deps)());
      return page(nonce, "Escalation report", reportView(await buildReport(deps.store, range)));
    }
    const filters = pageFilters(params);
    try {
      const query = parseIncidentQuery({ ...apiParams(filters), cursor: params.cursor });
      const { incidents, nextCursor } = await deps.store.list(query);
      return page(
        nonce,
        "Incidents",
        listView({ filters, incidents, nextCursor, cursor: params.cursor }),
      );
    } catch (error) {
      if (!(error instanceof InvalidParameterError)) throw error;
      const body = listView({ filters, incidents: [], nextCursor: null, problem: error.message });
      return page(nonce, "Incidents", body, 400);
    }
  });
}

/** True when a browser's Origin (sent on every POST) is this site, or absent (curl). */
function sameOrigin(event: HttpEvent): boolean {
  const origin = event.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === (event.headers.host ?? event.requestContext.domainName);
  } catch {
    return false;
  }
}

const seeOther = (headers: Record<string, string>): HttpResult => ({
  statusCode: 303,
  headers: { location: "/", "cache-control": "no-store", ...headers },
  body: "",
});

/** POST /login: the sign-in form's token, compared in constant time; a session cookie if right. */
export function login(deps: ReadApiDeps) {
  return middy<HttpEvent, HttpResult>()
    .use(requestLog(deps.logger, "browser"))
    .use(pageErrors(deps))
    .use(rawBody(4096))
    .handler(async (event) => {
      const nonce = newNonce();
      if (!sameOrigin(event)) {
        return htmlResponse(403, signInPage(nonce, "Sign in from tocsin's own page."), nonce);
      }
      const given = new URLSearchParams(event.rawBody ?? "").get("token")?.trim() ?? "";
      const now = clockOf(deps)();
      let right: boolean;
      try {
        right = await checkPresentedToken(event, given, deps.apiToken, now, deps.throttle);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        const page = signInPage(
          nonce,
          `Too many wrong tokens from your address. ${waitHint(error)}`,
        );
        return htmlResponse(error.statusCode, page, nonce, error.headers);
      }
      if (!right) {
        const page = signInPage(nonce, "That token is not valid.");
        return htmlResponse(401, page, nonce, SIGN_IN_HEADERS);
      }
      return seeOther({ "set-cookie": sessionCookie(event, await deps.apiToken(), now) });
    });
}

/** What a throttled sign-in is told: how long to wait. */
const waitHint = (error: HttpError) => `Try again in ${error.headers["retry-after"]} seconds.`;

/** POST /logout: forgets the session cookie; like /login, only from tocsin's own page. */
export function logout(deps: ReadApiDeps) {
  return pageHandler(deps, async (event) => {
    if (!sameOrigin(event)) {
      const nonce = newNonce();
      const page = problemPage(nonce, "Forbidden", "Sign out from tocsin's own page.");
      return htmlResponse(403, page, nonce);
    }
    return seeOther({ "set-cookie": clearedSessionCookie(event) });
  });
}

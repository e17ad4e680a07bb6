import type { Logger } from "@aws-lambda-powertools/logger";
import middy from "@middy/core";
import { errorResponses, HttpError } from "../../adapters/http/http-errors.js";
import { requestLog } from "../../adapters/http/request-log.js";
import {
  type HttpEvent,
  type HttpMiddleware,
  type HttpResult,
  json,
} from "../../adapters/http/types.js";
import { type ActionDeps, type ActOnce, takeIncidentAction } from "../../app/incident-actions.js";
import type { IncidentWithTimeline } from "../../core/incident.js";
import type { ReplayGuard } from "../../core/replay-guard.js";
import { confirmationPage, donePage, refusalPage } from "./page.js";
import { type LinkClaims, verifyLink } from "./token.js";

export interface AckLinkDeps extends ActionDeps {
  logger: Logger;
  /** The keys links verify with, the signing one first (TOCSIN_LINK_KEY; AckLinkKey on AWS). */
  keys: () => Promise<readonly string[]> | readonly string[];
  /** Remembers each link that acted, until it expires (across instances). */
  replayGuard: ReplayGuard;
  now: () => Date;
}

/** The token is a credential: the logs name the route, never the path that carries it. */
const TOKEN_FREE_PATH = "/a/{token}";
function withoutTokenInLogs(): HttpMiddleware {
  return {
    before: async ({ event }) => {
      event.rawPath = TOKEN_FREE_PATH;
      event.requestContext.http.path = TOKEN_FREE_PATH;
    },
  };
}

const REFUSED = {
  malformed: "This link is not a tocsin acknowledgement link (it may have been cut short).",
  forged: "This link's signature does not verify: it was not made by this tocsin.",
  expired: "This link has expired.",
  replayed: "This link was used already; a link acts once.",
} as const;

/** The incident of a genuine link, as the page shows it. */
function shown(incident: IncidentWithTimeline) {
  return {
    id: incident.id,
    title: incident.title,
    severity: incident.severity,
    status: incident.status,
    team: incident.team,
  };
}

/** 409 for an action the incident's state no longer allows, with the state as its code. */
function stateConflict(incident: IncidentWithTimeline, message?: string): HttpError {
  const by = incident.status === "resolved" ? incident.resolvedBy : incident.acknowledgedBy;
  const at = incident.status === "resolved" ? incident.resolvedAt : incident.acknowledgedAt;
  return new HttpError(
    409,
    incident.status,
    message ??
      `Nothing changed: this incident is already ${incident.status} by ${by ?? "someone"} at ${at ?? "an earlier time"}.`,
  );
}

/** Whether the incident's state still allows the link's action (a resolved one allows none). */
function stillApplies(incident: IncidentWithTimeline, action: LinkClaims["action"]): boolean {
  if (incident.status === "resolved") return false;
  return action === "resolve" || incident.status === "triggered";
}

/**
 * GET and POST /a/{token}: the signed links in SMS, email and Slack DMs. GET verifies the
 * token and shows the incident and one button; it writes nothing (no replay record either),
 * since mail scanners and link previewers fetch every link they see. POST verifies, acts
 * once (the link's mac in the replay guard until it expires, claimed only when the change
 * is allowed) as the person the link was made for, via "link", through the same lifecycle
 * as a Slack click: the escalation stopped and the other channels told. Answers JSON, or
 * the same status as a small page when the client accepts text/html: 200; 401 malformed,
 * forged, expired or replayed; 403 a person the config no longer has; 404 an incident
 * tocsin no longer has; 409 acknowledged or resolved already.
 */
export function ackLinks(deps: AckLinkDeps) {
  const handle = async (event: HttpEvent, html: boolean): Promise<HttpResult> => {
    const token = event.pathParameters?.token ?? "";
    const now = deps.now();
    const verdict = verifyLink(await deps.keys(), token, Math.floor(now.getTime() / 1000));
    if (!verdict.ok) throw new HttpError(401, verdict.reason, REFUSED[verdict.reason]);
    const { claims } = verdict;
    event.incidentIds = [claims.incidentId];
    const person = Object.hasOwn(deps.config.users, claims.userId)
      ? deps.config.users[claims.userId]!
      : undefined;
    if (!person)
      throw new HttpError(
        403,
        "unknown_person",
        "The person this link was made for is no longer in tocsin's config.",
      );
    const display = `${person.name} (${claims.userId})`;
    const incident = await deps.store.get(claims.incidentId);
    if (!incident)
      throw new HttpError(404, "not_found", "This incident no longer exists in tocsin.");

    if (event.requestContext.http.method !== "POST") {
      if (!stillApplies(incident, claims.action)) throw stateConflict(incident);
      return html
        ? confirmationPage(incident, claims.action, person.name)
        : json(200, { incident: shown(incident), action: claims.action, as: display });
    }

    const key = `link:${verdict.mac}`;
    const once: ActOnce = {
      claim: () =>
        deps.replayGuard.firstSeen(key, {
          now: now.toISOString(),
          until: new Date(claims.expiresAt * 1000).toISOString(),
        }),
      claimed: () => deps.replayGuard.seen(key, now.toISOString()),
    };
    const result = await takeIncidentAction(
      {
        ...deps,
        onEngineFault: (id, error) =>
          deps.logger.error("escalation engine failed after a link action", {
            event: "escalation_engine_fault",
            incidentId: id,
            error,
          }),
      },
      {
        incidentId: claims.incidentId,
        action: { type: claims.action },
        // Responders rules name Slack members: the person's, when the config has one.
        user: { id: person.slack ?? `tocsin:${claims.userId}`, name: claims.userId },
        actor: { display, via: "link", userId: claims.userId },
        once,
      },
      now,
    );
    deps.logger.info("link action", {
      event: "link_action",
      incidentId: claims.incidentId,
      action: claims.action,
      outcome: result.outcome,
      userId: claims.userId,
    });
    switch (result.outcome) {
      case "done":
        return html
          ? donePage(result.incident, result.message)
          : json(200, {
              ok: true,
              outcome: "done",
              message: result.message,
              incident: shown(result.incident),
            });
      case "replayed":
        throw new HttpError(401, "replayed", REFUSED.replayed);
      case "not_found":
        throw new HttpError(404, "not_found", result.message);
      case "refused":
        throw new HttpError(403, "refused", result.message);
      case "conflict": {
        const current = await deps.store.get(claims.incidentId);
        if (!current)
          throw new HttpError(404, "not_found", "This incident no longer exists in tocsin.");
        throw stateConflict(current, result.message);
      }
    }
  };
  return middy<HttpEvent, HttpResult>()
    .use(withoutTokenInLogs())
    .use(requestLog(deps.logger, "browser"))
    .use(errorResponses(deps.logger))
    .handler(async (event) => {
      const html = /\btext\/html\b/i.test(event.headers.accept ?? "");
      try {
        return await handle(event, html);
      } catch (error) {
        // A refusal is a page for a browser; the JSON answer otherwise (and every 5xx).
        if (html && error instanceof HttpError && error.statusCode < 500)
          return refusalPage(error.statusCode, error.message);
        throw error;
      }
    });
}

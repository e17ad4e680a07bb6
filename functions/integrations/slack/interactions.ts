import type { Logger } from "@aws-lambda-powertools/logger";
import middy from "@middy/core";
import * as z from "zod/mini";
import type { SecretSource } from "../../adapters/http/auth.js";
import { rawBody } from "../../adapters/http/body.js";
import { errorResponses, HttpError } from "../../adapters/http/http-errors.js";
import { requestLog } from "../../adapters/http/request-log.js";
import { SIGNATURE_WINDOW_SECONDS } from "../../adapters/http/signatures.js";
import {
  type HttpEvent,
  type HttpMiddleware,
  type HttpResult,
  json,
} from "../../adapters/http/types.js";
import { type ActionDeps, type ActOnce, takeIncidentAction } from "../../app/incident-actions.js";
import type { ReplayGuard } from "../../core/replay-guard.js";
import { issuePath, validate } from "../../core/validation.js";
import { toAction } from "./actions.js";
import type { SlackResponder } from "./responder.js";
import { verifySlackSignature } from "./signature.js";
import { describeSlackUser } from "./users.js";

export interface SlackInteractionDeps extends ActionDeps {
  logger: Logger;
  signingSecret: SecretSource;
  /** When set, clicks from any other workspace are refused (SLACK_TEAM_ID). */
  teamId?: string | undefined;
  responder: SlackResponder;
  /** Remembers each signed request for its signature's window (across instances). */
  replayGuard: ReplayGuard;
  now: () => Date;
}

/** The part of Slack's block_actions payload we read; everything else is ignored. */
const id = z.string().check(z.minLength(1));
export const payloadSchema = z.object({
  type: z.literal("block_actions", { error: "only block_actions interactions are handled" }),
  user: z.object({ id, username: z.optional(z.string()), name: z.optional(z.string()) }),
  team: z.nullable(z.object({ id })),
  /** Where the clicker's private note goes (valid 30 minutes, 5 posts). */
  response_url: z.optional(z.string()),
  actions: z
    .array(
      z.object({
        action_id: z.string(),
        value: z.optional(z.string()),
        selected_option: z.optional(z.object({ value: z.string() })),
      }),
    )
    .check(z.minLength(1)),
});

/** Verifies X-Slack-Signature over the raw body; unsigned, forged and stale requests get 401. */
function requireSlackSignature(deps: SlackInteractionDeps): HttpMiddleware {
  return {
    before: async ({ event }) => {
      const verdict = verifySlackSignature({
        signingSecret: await deps.signingSecret(),
        timestamp: event.headers["x-slack-request-timestamp"],
        signature: event.headers["x-slack-signature"],
        rawBody: event.rawBody ?? "",
        now: deps.now(),
      });
      if (verdict !== "valid")
        throw new HttpError(401, "unauthorized", `Slack signature ${verdict}`);
    },
  };
}

/**
 * Acts on a signed request once: the same request again (a replay, a double delivery) is a
 * 409 that changes nothing. Its signature is remembered until it expires, only once the
 * request is valid and about to act (so a refused request leaves nothing behind), in one
 * conditional write that gives one of two concurrent copies the right to act.
 */
function actOnce(deps: SlackInteractionDeps, headers: HttpEvent["headers"]): ActOnce {
  const key = `slack:${headers["x-slack-signature"]}`;
  const signedAt = Number(headers["x-slack-request-timestamp"]);
  return {
    claim: () =>
      deps.replayGuard.firstSeen(key, {
        now: deps.now().toISOString(),
        until: new Date((signedAt + SIGNATURE_WINDOW_SECONDS) * 1000).toISOString(),
      }),
    claimed: () => deps.replayGuard.seen(key, deps.now().toISOString()),
  };
}

const REPLAYED = () =>
  new HttpError(
    409,
    "replayed_request",
    "This signed request was received before; it is acted on once, so nothing changed.",
  );

/**
 * POST /slack/interactions: Slack's button clicks. Answers 200 quickly (Slack allows 3 s):
 * the state change is one conditional write and the slow parts (Slack message update,
 * PagerDuty) run in the escalation engine. The clicker gets a private note either way,
 * through the interaction's response_url, sent after this answer (SlackResponder).
 */
export function slackInteractions(deps: SlackInteractionDeps) {
  return middy<HttpEvent, HttpResult>()
    .use(requestLog(deps.logger, "slack"))
    .use(errorResponses(deps.logger))
    .use(rawBody())
    .use(requireSlackSignature(deps))
    .handler(async (event) => {
      const form = new URLSearchParams(event.rawBody ?? "");
      let parsed: unknown;
      try {
        parsed = JSON.parse(form.get("payload") ?? "");
      } catch {
        throw new HttpError(
          400,
          "malformed_payload",
          "expected a form field `payload` holding JSON",
        );
      }
      const result = validate(payloadSchema, parsed);
      if (!result.success) {
        const issue = result.error.issues[0]!;
        throw new HttpError(400, "invalid_payload", `${issuePath(issue.path)}: ${issue.message}`);
      }
      const payload = result.data;
      const user = { id: payload.user.id, name: payload.user.username ?? payload.user.name };
      const responseUrl = payload.response_url;
      // Handed over, not delivered: the note goes out after this answer (see SlackResponder).
      const say = async (text: string) => {
        if (!responseUrl) return;
        await deps.responder.tell({ responseUrl, text }).catch((error: unknown) =>
          deps.logger.warn("the private note could not be handed over", {
            event: "slack_note",
            delivered: false,
            reason: error instanceof Error ? error.message : String(error),
          }),
        );
      };
      if (deps.teamId && payload.team?.id !== deps.teamId) {
        await say("This tocsin answers another Slack workspace; nothing was changed.");
        return json(200, { ok: false, outcome: "refused" });
      }
      const { incidentId, action } = toAction(payload.actions[0]!);
      event.incidentIds = [incidentId];
      const outcome = await takeIncidentAction(
        {
          ...deps,
          onEngineFault: (id, error) =>
            deps.logger.error("escalation engine failed after a Slack action", {
              event: "escalation_engine_fault",
              incidentId: id,
              error,
            }),
        },
        {
          incidentId,
          action,
          user,
          actor: { display: describeSlackUser(deps.config, user), via: "slack", userId: user.id },
          once: actOnce(deps, event.headers),
        },
        deps.now(),
      );
      deps.logger.info("slack action", {
        event: "slack_action",
        incidentId,
        action: action.type,
        outcome: outcome.outcome,
        slackUser: user.id,
      });
      if (outcome.outcome === "replayed") throw REPLAYED();
      await say(outcome.message);
      return json(200, {
        ok: outcome.outcome === "done",
        outcome: outcome.outcome,
        message: outcome.message,
      });
    });
}

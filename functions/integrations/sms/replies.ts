import type { Logger } from "@aws-lambda-powertools/logger";
import type { SNSEvent } from "aws-lambda";
import { type ActionDeps, takeIncidentAction } from "../../app/incident-actions.js";
import type { Config } from "../../core/config.js";
import type { ReplayGuard } from "../../core/replay-guard.js";
import { maskPhone } from "./message.js";
import type { SmsReplyBook } from "./reply-book.js";

/** Replies that acknowledge (trimmed, any case). STOP, HELP and the like are End User Messaging's. */
const ACKNOWLEDGING = new Set(["1", "ACK"]);
/** How long an inbound message id is remembered: SNS retries a Lambda delivery for hours, not days. */
const REPLAY_WINDOW_MS = 49 * 3600 * 1000;

/**
 * The person's number, what they wrote and End User Messaging's id for it, from the JSON it
 * publishes to the two-way topic; null for anything else.
 * https://docs.aws.amazon.com/sms-voice/latest/userguide/two-way-sms-payload.html
 */
export function parseReply(snsMessage: string): { phone: string; body: string; id: string } | null {
  let payload: unknown;
  try {
    payload = JSON.parse(snsMessage);
  } catch {
    return null;
  }
  if (!payload || typeof payload !== "object") return null;
  const { originationNumber, messageBody, inboundMessageId } = payload as Record<string, unknown>;
  if (typeof originationNumber !== "string" || !/^\+[1-9]\d{6,14}$/.test(originationNumber))
    return null;
  if (typeof messageBody !== "string" || typeof inboundMessageId !== "string" || !inboundMessageId)
    return null;
  return { phone: originationNumber, body: messageBody, id: inboundMessageId };
}

export interface SmsRepliesDeps extends ActionDeps {
  config: Config;
  replyBook: SmsReplyBook;
  replayGuard: ReplayGuard;
  logger: Logger;
  now: () => Date;
}

export type ReplyOutcome = "acknowledged" | "replayed" | "unchanged" | "ignored";

/**
 * The two-way topic's subscriber: a reply of `1` or `ACK` from a number that is exactly one
 * person's phone acknowledges the latest incident texted to that number, as that person
 * (`via: "sms"`), once per inbound message (a replay guard on its id: SNS may deliver twice).
 * Anything else is logged, phone masked, and changes nothing. A store fault is thrown, so
 * that Lambda's retry of the SNS delivery tries again.
 */
export function smsRepliesHandler(deps: SmsRepliesDeps) {
  return async (event: SNSEvent): Promise<{ outcomes: ReplyOutcome[] }> => {
    const outcomes: ReplyOutcome[] = [];
    for (const record of event.Records ?? []) {
      outcomes.push(await handleReply(deps, record.Sns?.Message ?? ""));
    }
    return { outcomes };
  };
}

async function handleReply(deps: SmsRepliesDeps, message: string): Promise<ReplyOutcome> {
  const reply = parseReply(message);
  const ignore = (why: string, fields: Record<string, unknown> = {}): ReplyOutcome => {
    deps.logger.info(`SMS reply ignored: ${why}`, { event: "sms_reply_ignored", ...fields });
    return "ignored";
  };
  if (!reply) return ignore("not an End User Messaging inbound message");
  const from = maskPhone(reply.phone);
  const people = Object.entries(deps.config.users).filter(([, user]) => user.phone === reply.phone);
  if (people.length !== 1) return ignore("the number is not one person's phone", { from });
  const [userId, user] = people[0]!;
  if (!ACKNOWLEDGING.has(reply.body.trim().toUpperCase()))
    return ignore("not an acknowledgement", { from, userId, length: reply.body.length });
  const latest = await deps.replyBook.latest(reply.phone);
  if (!latest) return ignore("no incident was texted to this number", { from, userId });

  const now = deps.now();
  const key = `sms:${reply.id}`;
  const until = new Date(now.getTime() + REPLAY_WINDOW_MS).toISOString();
  const result = await takeIncidentAction(
    deps,
    {
      incidentId: latest.incidentId,
      action: { type: "acknowledge" },
      // Team responders are listed by Slack id; a person without one is matched by nothing.
      user: { id: user.slack ?? `@${userId}` },
      actor: { display: `${user.name} (${userId})`, via: "sms", userId },
      once: {
        claim: () => deps.replayGuard.firstSeen(key, { now: now.toISOString(), until }),
        claimed: () => deps.replayGuard.seen(key, now.toISOString()),
      },
    },
    now,
  );
  const fields = { from, userId, incidentId: latest.incidentId, inboundMessageId: reply.id };
  switch (result.outcome) {
    case "done":
      deps.logger.info("incident acknowledged by SMS reply", {
        event: "sms_reply_acknowledged",
        ...fields,
      });
      return "acknowledged";
    case "replayed":
      deps.logger.info("SMS reply seen before: nothing changed", {
        event: "sms_reply_replayed",
        ...fields,
      });
      return "replayed";
    default:
      deps.logger.info(`SMS reply changed nothing: ${result.message}`, {
        event: "sms_reply_unchanged",
        outcome: result.outcome,
        ...fields,
      });
      return "unchanged";
  }
}

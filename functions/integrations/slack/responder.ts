import type { Logger } from "@aws-lambda-powertools/logger";
import { systemClock } from "../../adapters/clock.js";
import type { Clock } from "../../core/clock.js";
import type { RetryPolicy } from "../../core/delivery-retry.js";
import type { DeliveryOutcome } from "../../core/notification.js";
import { pipeline, type Send, type Stage } from "../../delivery/pipeline.js";
import { retryStage } from "../../delivery/retry-stage.js";

/** A note only the person who clicked sees, through the interaction's `response_url`. */
export interface SlackNote {
  responseUrl: string;
  text: string;
}

/**
 * Hands a note for the person who clicked to whatever delivers it, off the click's response
 * path: `tell` answers once the note is handed over, never after waiting on Slack, so a slow
 * Slack cannot slow the click's answer (Slack allows 3 s). It may throw when the hand-over
 * itself fails; the click is handled either way.
 */
export interface SlackResponder {
  tell(note: SlackNote): Promise<void>;
}

/**
 * The event with which the Slack function hands a note to itself on Lambda (an asynchronous
 * invocation, see lambda-runtime.ts): the click's invocation returns at once, this one posts.
 */
export interface SlackNoteEvent {
  tocsin: "slack-note";
  note: SlackNote;
}

export function slackNoteEvent(note: SlackNote): SlackNoteEvent {
  return { tocsin: "slack-note", note };
}

export function isSlackNoteEvent(event: unknown): event is SlackNoteEvent {
  const candidate = event as Partial<SlackNoteEvent> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    candidate.tocsin === "slack-note" &&
    typeof candidate.note?.responseUrl === "string" &&
    typeof candidate.note.text === "string"
  );
}

/** Where response URLs may point: Slack's own hosts (and GovSlack's), over HTTPS. */
const SLACK_HOOK_HOSTS = new Set(["hooks.slack.com", "hooks.slack-gov.com"]);

/**
 * A response URL gets 5 posts in 30 minutes (https://docs.slack.dev/interactivity/handling-user-interaction#message_responses):
 * three attempts are plenty. No retry starts after 5 s and an attempt lasts at most
 * NOTE_TIMEOUT_MS, so a note is done within 8 s, inside the Slack function's 10 s timeout.
 */
export const NOTE_RETRY_POLICY: RetryPolicy = {
  attempts: 3,
  minDelayMs: 500,
  maxDelayMs: 2_000,
  maxTotalMs: 5_000,
  maxRetryAfterMs: 2_000,
};
export const NOTE_TIMEOUT_MS = 3_000;

/** The origin of SLACK_API_URL when it is set (a local fake serving response URLs too). */
export function fakeSlackOrigins(apiUrl: string | undefined): string[] {
  return apiUrl && URL.canParse(apiUrl) ? [new URL(apiUrl).origin] : [];
}

/** A note's retries run in real time: Slack's limits on a response URL are real time too. */
type NoteClock = Pick<Clock, "now" | "sleep" | "random">;

export interface NoteDeliveryOptions {
  logger: Pick<Logger, "info" | "warn">;
  /** Origins besides Slack's hooks that response URLs may point at (a local fake's, from SLACK_API_URL). */
  extraOrigins?: readonly string[];
  /** One attempt's limit; default NOTE_TIMEOUT_MS. */
  timeoutMs?: number;
  retryPolicy?: RetryPolicy;
  /** The retry stage's clock and sleep; the system's by default. */
  clock?: NoteClock;
}

/** Network errors raised before the request went out: repeating cannot post the note twice. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * Posts notes to response URLs as Slack documents: JSON `{response_type: "ephemeral",
 * replace_original: false, text}`, which shows the clicker a note and leaves the message
 * alone, and works where the bot is not a member of the channel. Through the delivery
 * pipeline's retry stage, on NOTE_RETRY_POLICY: a 429 (after its Retry-After), a 5xx or a
 * connection that never opened is tried again; a timeout or a connection dropped mid-way is
 * not, since Slack may have posted the note already: a note posted twice is the worse
 * failure. A URL that is not Slack's is never posted to (the payload is signed, so this
 * guards against a leaked signing secret turning tocsin into a proxy). Never throws: the
 * outcome is logged, without the URL (it grants posting).
 */
export function noteDelivery(options: NoteDeliveryOptions): (note: SlackNote) => Promise<void> {
  const allowed = new Set(options.extraOrigins ?? []);
  const isSlacks = (url: URL) =>
    (url.protocol === "https:" && SLACK_HOOK_HOSTS.has(url.hostname)) || allowed.has(url.origin);
  const clock = options.clock ?? systemClock;
  const send = pipeline<SlackNote>(
    [
      logNote(options.logger),
      retryStage({ policy: options.retryPolicy ?? NOTE_RETRY_POLICY, clock }),
    ],
    postNote(options.timeoutMs ?? NOTE_TIMEOUT_MS, clock),
  );
  return async (note) => {
    const url = URL.canParse(note.responseUrl) ? new URL(note.responseUrl) : undefined;
    if (!url || !isSlacks(url)) {
      options.logger.warn("a Slack note was not sent: its response_url is not Slack's", {
        event: "slack_note",
        delivered: false,
      });
      return;
    }
    await send(note);
  };
}

/** Logs what became of a note, once, after its attempts. */
function logNote(logger: NoteDeliveryOptions["logger"]): Stage<SlackNote> {
  return (next) => async (note) => {
    const attempted = await next(note);
    const { outcome, attempts } = attempted;
    if (outcome.status === "delivered") {
      logger.info("slack note", { event: "slack_note", delivered: true, attempts });
    } else {
      logger.warn("a Slack note was not delivered", {
        event: "slack_note",
        delivered: false,
        attempts,
        reason: outcome.detail,
      });
    }
    return attempted;
  };
}

/** One attempt: one POST to the note's response URL. */
function postNote(timeoutMs: number, clock: NoteClock): Send<SlackNote> {
  return async (note) => {
    const outcome = await post(new URL(note.responseUrl), note.text, timeoutMs);
    return { notification: note, outcome, attempts: 1, at: clock.now() };
  };
}

async function post(url: URL, text: string, timeoutMs: number): Promise<DeliveryOutcome> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ response_type: "ephemeral", replace_original: false, text }),
      redirect: "error",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const code = ((error as Error).cause as { code?: string } | undefined)?.code;
    if (code && NOT_SENT.has(code))
      return { status: "failed", retryable: true, detail: `Slack unreachable: ${code}` };
    return {
      status: "failed",
      retryable: false,
      detail: `no answer from Slack (${(error as Error).name}); not repeated`,
    };
  }
  const body = await response.text().catch(() => "");
  if (response.ok) return { status: "delivered", detail: "posted" };
  const detail = `Slack answered ${response.status}${body ? ` ${body.slice(0, 200)}` : ""}`;
  if (response.status === 429 || response.status >= 500) {
    const seconds = Number(response.headers.get("retry-after") ?? Number.NaN);
    return {
      status: "failed",
      retryable: true,
      detail,
      retryAfterMs: Number.isFinite(seconds) ? seconds * 1000 : undefined,
    };
  }
  return { status: "failed", retryable: false, detail };
}

/**
 * The local server's responder: delivers each note in this process without making the click
 * wait for it; `settled()` waits for the notes under way (at shutdown, in tests).
 */
export function inProcessResponder(
  deliver: (note: SlackNote) => Promise<void>,
): SlackResponder & { settled(): Promise<void> } {
  const underWay = new Set<Promise<void>>();
  return {
    tell: async (note) => {
      const delivery = deliver(note).finally(() => underWay.delete(delivery));
      underWay.add(delivery);
    },
    settled: async () => {
      await Promise.all([...underWay]);
    },
  };
}

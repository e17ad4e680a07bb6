import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@aws-lambda-powertools/logger";
import { type RetryPolicy, retryDelayMs } from "../../core/delivery-retry.js";

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

export interface NoteDeliveryOptions {
  logger: Pick<Logger, "info" | "warn">;
  /** Origins besides Slack's hooks that response URLs may point at (a local fake's, from SLACK_API_URL). */
  extraOrigins?: readonly string[];
  /** One attempt's limit; default NOTE_TIMEOUT_MS. */
  timeoutMs?: number;
  retryPolicy?: RetryPolicy;
}

/** Network errors raised before the request went out: repeating cannot post the note twice. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * Posts notes to response URLs as Slack documents: JSON `{response_type: "ephemeral",
 * replace_original: false, text}`, which shows the clicker a note and leaves the message
 * alone, and works where the bot is not a member of the channel. A 429 (after its
 * Retry-After), a 5xx or a connection that never opened is tried again; a timeout or a
 * connection dropped mid-way is not, since Slack may have posted the note already: a note
 * posted twice is the worse failure. A URL that is not Slack's is never posted to (the
 * payload is signed, so this guards against a leaked signing secret turning tocsin into a
 * proxy). Never throws: the outcome is logged, without the URL (it grants posting).
 */
export function noteDelivery(options: NoteDeliveryOptions): (note: SlackNote) => Promise<void> {
  const timeoutMs = options.timeoutMs ?? NOTE_TIMEOUT_MS;
  const allowed = new Set(options.extraOrigins ?? []);
  const isSlacks = (url: URL) =>
    (url.protocol === "https:" && SLACK_HOOK_HOSTS.has(url.hostname)) || allowed.has(url.origin);
  return async (note) => {
    const url = URL.canParse(note.responseUrl) ? new URL(note.responseUrl) : undefined;
    if (!url || !isSlacks(url)) {
      options.logger.warn("a Slack note was not sent: its response_url is not Slack's", {
        event: "slack_note",
        delivered: false,
      });
      return;
    }
    const policy = options.retryPolicy ?? NOTE_RETRY_POLICY;
    const started = performance.now();
    for (let attempts = 1; ; attempts++) {
      const result = await postNote(url, note.text, timeoutMs);
      if (result.ok) {
        options.logger.info("slack note", { event: "slack_note", delivered: true, attempts });
        return;
      }
      const delay = result.retryable
        ? retryDelayMs(
            policy,
            attempts,
            performance.now() - started,
            result.retryAfterMs,
            Math.random(),
          )
        : null;
      if (delay === null) {
        options.logger.warn("a Slack note was not delivered", {
          event: "slack_note",
          delivered: false,
          attempts,
          reason: result.reason,
        });
        return;
      }
      await sleep(delay);
    }
  };
}

type Attempt =
  | { ok: true }
  | { ok: false; retryable: boolean; reason: string; retryAfterMs?: number | undefined };

async function postNote(url: URL, text: string, timeoutMs: number): Promise<Attempt> {
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
      return { ok: false, retryable: true, reason: `Slack unreachable: ${code}` };
    return {
      ok: false,
      retryable: false,
      reason: `no answer from Slack (${(error as Error).name}); not repeated`,
    };
  }
  const body = await response.text().catch(() => "");
  if (response.ok) return { ok: true };
  const reason = `Slack answered ${response.status}${body ? ` ${body.slice(0, 200)}` : ""}`;
  if (response.status === 429 || response.status >= 500) {
    const seconds = Number(response.headers.get("retry-after") ?? Number.NaN);
    return {
      ok: false,
      retryable: true,
      reason,
      retryAfterMs: Number.isFinite(seconds) ? seconds * 1000 : undefined,
    };
  }
  return { ok: false, retryable: false, reason };
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

import type { ClientRequest, IncomingMessage } from "node:http";
import { Agent } from "node:https";
import { event } from "@pagerduty/pdjs";
// pdjs exports its event types only from the module that declares them.
import type { EventParameters, EventPayloadV2 } from "@pagerduty/pdjs/build/src/events.js";
import type { PagerDutyEvent } from "./event.js";

/** What one request to the Events API got back. */
export interface EventAnswer {
  status: number;
  /** The `Retry-After` header in seconds, when the answer had a usable one. */
  retryAfterSeconds?: number | undefined;
  /** The parsed JSON body, when there was one. */
  body?: unknown;
}

/** The request never got an answer (DNS, refused or reset connection, timeout). */
export class PagerDutyUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PagerDutyUnreachableError";
  }
}

export interface EventTransportOptions {
  /** host[:port] of the Events API; pdjs always speaks HTTPS to it. */
  server?: string | undefined;
  /** PEM certificates to trust instead of Node's default roots (tests against a local fake). */
  ca?: string | undefined;
  /** Per-request timeout in ms. */
  timeoutMs: number;
}

/**
 * An https.Agent that reports each response's status line and headers as soon as they
 * arrive. Node hands every request made through an agent to `addRequest` (agent-base and
 * the proxy agents rely on the same hook), so this sees responses that pdjs later hides.
 */
class ObservingAgent extends Agent {
  constructor(
    options: ConstructorParameters<typeof Agent>[0],
    private readonly onResponse: (response: IncomingMessage) => void,
  ) {
    super(options);
  }

  addRequest(request: ClientRequest, options: unknown): void {
    request.once("response", this.onResponse);
    (Agent.prototype as unknown as Hookable).addRequest.call(this, request, options);
  }
}

interface Hookable {
  addRequest(request: ClientRequest, options: unknown): void;
}

/**
 * One HTTP request through pdjs, and no more: `agent` goes to pdjs (which hands `agent`
 * and `signal` through cross-fetch to node-fetch, so https.request uses it) and sees each
 * response's status line and headers as soon as they arrive. pdjs 2.2 retries a 429 by
 * itself (three times, sleeping a fixed `retryTimeout`, 20 s by default, ignoring the
 * server's own hints) and then hides the answer; here a 429 aborts the call at once, and
 * `answered()` still tells its status and headers. The agent carries `ca`: a local fake's
 * self-signed certificate is trusted for these requests only; TLS verification is never
 * turned off, and nothing global (https.globalAgent, NODE_EXTRA_CA_CERTS) is touched.
 */
export function oneRequest(ca: string | undefined): {
  agent: Agent;
  signal: AbortSignal;
  answered: () => IncomingMessage | undefined;
  done: () => void;
} {
  const controller = new AbortController();
  let answered: IncomingMessage | undefined;
  const agent = new ObservingAgent({ ca, keepAlive: false }, (response) => {
    answered ??= response;
    if (response.statusCode === 429) controller.abort();
  });
  return {
    agent,
    signal: controller.signal,
    answered: () => answered,
    done: () => agent.destroy(),
  };
}

/**
 * What a pdjs call that threw came to: answered, but cut short (a 429) or with a body that
 * is not JSON (a proxy's 502 page), gives the answer's response; no answer at all is a
 * PagerDutyUnreachableError; anything else (a malformed server, a bug) is thrown as it is,
 * as trying again would not cure it.
 */
export function answeredOrThrow(
  error: unknown,
  answered: IncomingMessage | undefined,
): IncomingMessage {
  if (answered?.statusCode) return answered;
  // node-fetch's FetchError: refused, reset, DNS, TLS or timed out.
  if (error instanceof Error && error.name === "FetchError") {
    throw new PagerDutyUnreachableError(error.message, { cause: error });
  }
  throw error;
}

/** The pdjs options that make one call one request (with oneRequest's agent and signal). */
export function oneRequestOptions(timeoutMs: number) {
  return {
    // node-fetch's own timeout; pdjs's `requestTimeout` only arms a timer that does nothing.
    timeout: timeoutMs,
    requestTimeout: 0,
    // Only reached if the abort of a 429 ever failed to stop pdjs's own retry.
    retryTimeout: 1_000,
  };
}

/**
 * Sends one event with pdjs and makes exactly one HTTP request (oneRequest), so that the
 * caller's retry policy decides everything; the caller gets a 429's status and Retry-After.
 * Answers any HTTP status; throws PagerDutyUnreachableError when there was no answer.
 */
export async function sendEvent(
  data: PagerDutyEvent,
  options: EventTransportOptions,
): Promise<EventAnswer> {
  const one = oneRequest(options.ca);
  const parameters: EventParameters & { agent: Agent } = {
    // pdjs's type wants a payload on every event; acknowledge and resolve carry none.
    data: data as EventPayloadV2,
    ...(options.server ? { server: options.server } : {}),
    agent: one.agent,
    signal: one.signal,
    ...oneRequestOptions(options.timeoutMs),
  };
  try {
    const response = await event(parameters);
    return {
      status: response.status,
      retryAfterSeconds: retryAfter(one.answered()),
      body: response.data,
    };
  } catch (error) {
    const answered = answeredOrThrow(error, one.answered());
    return { status: answered.statusCode!, retryAfterSeconds: retryAfter(answered) };
  } finally {
    one.done();
  }
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfter(response: IncomingMessage | undefined): number | undefined {
  const header = response?.headers["retry-after"];
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

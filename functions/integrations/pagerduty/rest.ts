import type { IncomingMessage } from "node:http";
import type { Agent } from "node:https";
import { api } from "@pagerduty/pdjs";
import type { APIParameters } from "@pagerduty/pdjs/build/src/api.js";
import { answeredOrThrow, oneRequest, oneRequestOptions, retryAfter } from "./transport.js";

/** What one REST API request got back. */
export interface RestAnswer {
  status: number;
  /** The parsed JSON body, when there was one (a 429 is cut short before its body). */
  body?: unknown;
  /**
   * How long PagerDuty asked to wait, in seconds: `ratelimit-reset` (what the REST API sends
   * with a 429), else a `Retry-After`.
   */
  retryAfterSeconds?: number;
}

export interface RestOptions {
  /** A REST API v2 token (account or user API key): sent as `Token token=…`, never logged. */
  token: string;
  /** The email of the PagerDuty user the requests act as (`From`): a bot user, see README. */
  from: string;
  /** host[:port] of the REST API; PagerDuty's own (api.pagerduty.com) by default. */
  server?: string | undefined;
  /** PEM certificates to trust instead of the default roots, for a local fake. */
  ca?: string | undefined;
  timeoutMs: number;
}

export interface PagerDutyRest {
  /**
   * One request, exactly one: `data` is the JSON body of POST and PUT and the query of a
   * GET (arrays as `key[]` repeated, as PagerDuty reads them). Answers any HTTP status;
   * throws PagerDutyUnreachableError when there was no answer.
   */
  request(method: "GET" | "POST" | "PUT", endpoint: string, data?: object): Promise<RestAnswer>;
}

/**
 * PagerDuty's REST API v2 (https://developer.pagerduty.com/docs/rest-api-v2/rest-api/)
 * through @pagerduty/pdjs's `api()`: it builds `https://<server>/<endpoint>` and sends
 * `Accept: application/vnd.pagerduty+json;version=2` and `Authorization: Token token=…`;
 * we add `From`, which incident writes require. pdjs's own 429 retry is stopped (see
 * transport.ts oneRequest): the delivery pipeline retries, waiting `ratelimit-reset`.
 */
export function pagerDutyRest(options: RestOptions): PagerDutyRest {
  return {
    async request(method, endpoint, data) {
      const one = oneRequest(options.ca);
      const parameters: APIParameters & { agent: Agent } = {
        endpoint,
        method,
        token: options.token,
        ...(options.server ? { server: options.server } : {}),
        ...(data ? { data } : {}),
        headers: { From: options.from },
        agent: one.agent,
        signal: one.signal,
        ...oneRequestOptions(options.timeoutMs),
      };
      try {
        const response = await api(parameters);
        return answer(response.status, one.answered(), response.data);
      } catch (error) {
        const answered = answeredOrThrow(error, one.answered());
        return answer(answered.statusCode!, answered, undefined);
      } finally {
        one.done();
      }
    },
  };
}

function answer(status: number, response: IncomingMessage | undefined, body: unknown): RestAnswer {
  const wait = rateLimitReset(response) ?? retryAfter(response);
  return {
    status,
    ...(body === undefined ? {} : { body }),
    ...(wait === undefined ? {} : { retryAfterSeconds: wait }),
  };
}

/** `ratelimit-reset`: seconds until the limit resets (REST API rate limits). */
function rateLimitReset(response: IncomingMessage | undefined): number | undefined {
  const header = response?.headers["ratelimit-reset"];
  if (typeof header !== "string" || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

/** PagerDuty's error body: `{"error": {"message", "code", "errors": [...]}}`. */
export interface RestError {
  message?: string;
  code?: number;
  errors?: string[];
}

/** The error object of an answer's body, if it has one. */
export function restError(answer: RestAnswer): RestError | undefined {
  const error = (answer.body as { error?: unknown } | undefined)?.error;
  if (typeof error !== "object" || error === null) return undefined;
  const { message, code, errors } = error as Record<string, unknown>;
  return {
    ...(typeof message === "string" ? { message } : {}),
    ...(typeof code === "number" ? { code } : {}),
    ...(Array.isArray(errors) ? { errors: errors.map(String) } : {}),
  };
}

/** PagerDuty's own words, for a timeline detail: `: Assigned To User Not Found (code 1007; …)`. */
export function explainRestError(answer: RestAnswer): string {
  const error = restError(answer);
  if (!error?.message && !error?.errors?.length) return "";
  const parts = [
    ...(error.code === undefined ? [] : [`code ${error.code}`]),
    ...(error.errors ?? []),
  ];
  return `: ${error.message ?? "error"}${parts.length ? ` (${parts.join("; ")})` : ""}`;
}

import type { Logger } from "@aws-lambda-powertools/logger";
import type { HttpMiddleware } from "./types.js";

/**
 * One structured log line per request (method, path, status, duration). Never the body
 * or headers: they carry tokens and whole payloads.
 */
export function requestLog(
  logger: Logger,
  clock: () => number = performance.now.bind(performance),
): HttpMiddleware {
  const started = new WeakMap<object, number>();
  const write = (request: Parameters<NonNullable<HttpMiddleware["after"]>>[0]) => {
    const { event, response } = request;
    logger.info("request", {
      event: "http_request",
      method: event.requestContext.http.method,
      path: event.rawPath,
      status: response?.statusCode,
      durationMs: Math.round((clock() - (started.get(event) ?? clock())) * 10) / 10,
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
